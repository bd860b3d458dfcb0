import { describe, expect, it } from '@jest/globals';
import { NotPossible, XfedError } from '../../../src/errors.js';
import { applyStep, idleSfbUser, recordingDeployment } from '../../helpers/steps.js';

describe('the federation steps', () => {
  it.each([
    [
      { action: 'federation-route', route: 'xmpp', to: 'sfb2019-edge' },
      "route the site's XMPP federation through the 2019 Edge",
      ['setFederationRoute', 'xmpp', 'sfb2019-edge'],
    ],
    [{ action: 'federation-route', route: 'sip', to: 'none' }, "disable the site's SIP federation route", ['setFederationRoute', 'sip', 'none']],
    [
      { action: 'access-edge', allowFederatedUsers: false, service: 'stopped' },
      'set AllowFederatedUsers $false, stop the legacy Access Edge service',
      ['setAccessEdge', { allowFederatedUsers: false, service: 'stopped' }],
    ],
    [
      { action: 'access-edge', service: 'started' },
      'start the legacy Access Edge service',
      ['setAccessEdge', { allowFederatedUsers: undefined, service: 'started' }],
    ],
    [{ action: 'xmpp-proxy', service: 'stopped' }, "stop the legacy Edge's XMPP Translating Gateway Proxy service", ['setXmppProxy', 'stopped']],
    [{ action: 'move-cms', to: 'sfb2019' }, 'move the central management store to the sfb2019 pool', ['moveCms', 'sfb2019']],
  ])('%j reads "%s" and asks the deployment %j', async (raw, description, call) => {
    const { deployment, calls } = recordingDeployment();
    const r = await applyStep(raw, { deployment, sfbUser: idleSfbUser });
    expect(r).toEqual({ description, appliesTo: 'sim', output: `${call[0]} done` });
    expect(calls).toEqual([call]);
  });

  it('are not possible against a real gateway, whose lab people change', async () => {
    await expect(applyStep({ action: 'move-cms', to: 'sfb2019' }, { deployment: undefined, sfbUser: idleSfbUser })).rejects.toThrow(NotPossible);
  });

  it('an access-edge step that names nothing to change is refused before it reaches the deployment', async () => {
    const { deployment, calls } = recordingDeployment();
    await expect(applyStep({ action: 'access-edge' }, { deployment, sfbUser: idleSfbUser })).rejects.toThrow(
      new XfedError('the access-edge step needs allowFederatedUsers, service, or both'),
    );
    expect(calls).toEqual([]);
  });
});
