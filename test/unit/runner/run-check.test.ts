import { describe, expect, it } from '@jest/globals';
import { Check } from '../../../src/checks/index.js';
import { NotPossible } from '../../../src/errors.js';
import { LineLog } from '../../../src/infra/line-log.js';
import { resolvePartnerProfile } from '../../../src/sfb/partner-profile.js';
import { DEFAULT_SHOW_MAPPING } from '../../../src/sfb/availability.js';
import { runCheck } from '../../../src/runner/run-check.js';
import { FlowRecorder } from '../../../src/targets/flow.js';
import type { SfbUser, SuiteTarget, TargetSetup } from '../../../src/targets/target.js';
import type { XmppUser } from '../../../src/xmpp/client.js';

const setup: TargetSetup = {
  partner: { domains: ['partner.test'], users: ['alice'] },
  sfbDomain: 'contoso.test',
  partnerProfile: resolvePartnerProfile({ domain: 'partner.test' }),
  echoUser: undefined,
  baseDir: '.',
};

/** A lab user xfed does not drive: he neither echoes nor can be made to act. */
const undriven: SfbUser = {
  name: 'erin',
  jid: 'erin@contoso.test',
  echoes: false,
  answersSubscriptionsHimself: false,
  receivesIm: () => {
    throw new NotPossible('xfed sees an IM reach erin only through an echo or as erin');
  },
  sendIm: async () => {
    throw new NotPossible('erin writes, so xfed must act as erin');
  },
  presence: () => undefined,
  showMapping: DEFAULT_SHOW_MAPPING,
  setAvailability: async () => {
    throw new NotPossible('erin publishes a presence, so xfed must act as erin');
  },
};

/** Only what these checks touch; the rest would be a bug to reach. */
function fakeTarget(partnerUser: () => Promise<XmppUser>, harnessFault: string | undefined = undefined): SuiteTarget {
  const unused = () => {
    throw new Error('not used by this test');
  };
  return {
    kind: 'gateway',
    runtime: 'process',
    sfbDomain: 'contoso.test',
    flow: new FlowRecorder(),
    resolver: { host: '127.0.0.1', port: 53 },
    deployment: undefined,
    partnerLog: new LineLog(),
    partnerUser,
    partnerSession: unused,
    sfbUser: () => undrivenUser(),
    barrier: unused,
    renewS2s: unused,
    logs: () => ({ partner: [], edge: [] }),
    diagnose: () => 'the Edge never came back',
    harnessFault: async () => harnessFault,
    locateEdge: unused,
    partnerIdentity: unused,
    allowedProfile: () => undefined,
    stop: async () => undefined,
    [Symbol.asyncDispose]: async () => undefined,
  };
}
const undrivenUser = () => undriven;

const check = (c: unknown): Check => Check.parse(c);
const alice = { bare: 'alice@partner.test', received: () => [], sendMessage: async () => 'id-1' } as unknown as XmppUser;

describe('runCheck', () => {
  it('gives "not possible", with the target\'s reason, to a check the target cannot perform, before anything is sent', async () => {
    let sent = 0;
    const partner = { ...alice, sendMessage: async () => String(++sent) } as unknown as XmppUser;
    const r = await runCheck(
      fakeTarget(async () => partner),
      setup,
      'p',
      check({ id: 'im-erin', kind: 'im', from: 'alice', to: 'erin' }),
      'alice IMs erin',
    );
    expect(r).toMatchObject({
      met: false,
      notPossible: 'xfed sees an IM reach erin only through an echo or as erin',
      actual: 'not possible: xfed sees an IM reach erin only through an echo or as erin',
    });
    expect(r.error).toBeUndefined();
    expect(sent).toBe(0);
    expect(r.references).toEqual(expect.arrayContaining(['RFC 7572 section 5 (XMPP to SIP, page mode)']));
  });

  it('files a wait on the system under test that ran out as a federation failure, with the diagnosis', async () => {
    const { TimeoutError } = await import('../../../src/errors.js');
    const silent = {
      ...alice,
      send: async () => undefined,
      waitFor: async () => {
        throw new TimeoutError('timed out after 5 ms waiting for the answer to the ping of contoso.test at alice@partner.test');
      },
    } as unknown as XmppUser;
    const r = await runCheck(
      fakeTarget(async () => silent),
      setup,
      'p',
      check({ id: 'ping', kind: 'ping', from: 'alice' }),
      'alice pings contoso.test',
    );
    expect(r).toMatchObject({
      met: false,
      failure: 'federation',
      outcome: { status: 'fail', detail: { answer: 'none' } },
      actual: 'no answer ("timed out after 5 ms waiting for the answer to the ping of contoso.test at alice@partner.test")',
      diagnosis: 'the Edge never came back',
    });
    expect(r.error).toBeUndefined();
    expect(r.harnessFault).toBeUndefined();
  });

  it("files the same silence as the harness's when xfed's own parts are found broken, and says which", async () => {
    const { TimeoutError } = await import('../../../src/errors.js');
    const silent = {
      ...alice,
      send: async () => undefined,
      waitFor: async () => {
        throw new TimeoutError('timed out after 5 ms waiting for the answer');
      },
    } as unknown as XmppUser;
    const broken = "xfed's partner Prosody (partner.test) has exited";
    const r = await runCheck(
      fakeTarget(async () => silent, broken),
      setup,
      'p',
      check({ id: 'ping', kind: 'ping', from: 'alice' }),
      'alice pings',
    );
    expect(r).toMatchObject({ met: false, failure: 'harness', error: `timed out after 5 ms waiting for the answer (${broken})`, harnessFault: broken });
    expect(r.diagnosis).toBeUndefined();
  });

  it('says "harness failure" for a wait of the harness that ran out (a login), with no diagnosis of the Edge', async () => {
    const { TimeoutError } = await import('../../../src/errors.js');
    const target = fakeTarget(async () => {
      throw new TimeoutError('timed out after 5 ms waiting for a login');
    });
    const r = await runCheck(target, setup, 'p', check({ id: 'ping', kind: 'ping', from: 'alice' }), 'alice pings contoso.test');
    expect(r).toMatchObject({
      met: false,
      failure: 'harness',
      error: 'timed out after 5 ms waiting for a login',
      actual: 'harness failure: timed out after 5 ms waiting for a login',
    });
    expect(r.notPossible).toBeUndefined();
    expect(r.harnessFault).toBeUndefined();
  });
});
