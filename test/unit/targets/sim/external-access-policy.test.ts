import { afterEach, describe, expect, it } from '@jest/globals';
import { BehaviourLog } from '../../../../src/sfb/behaviours/log.js';
import { DEFAULT_XMPP_ACCESS, xmppAccessOf } from '../../../../src/sfb/deployment.js';
import { PARTNER } from '../../../helpers/gateway-under-test.js';
import { PoolsUnderTest } from '../../../helpers/pools-under-test.js';

let t: PoolsUnderTest;
afterEach(() => t?.stop());

const fromPartner = (user: string) => t.send(t.fromGateway({ method: 'MESSAGE', user, body: 'hi' }));

describe('the external access policy (Set-CsExternalAccessPolicy -EnableXmppAccess)', () => {
  it('a user nobody granted EnableXmppAccess is refused both ways: its default is False', async () => {
    expect(DEFAULT_XMPP_ACCESS).toBe(false);
    t = await PoolsUnderTest.start([{ name: 'erin', pool: 'legacy' }], { externalAccessPolicy: null });
    const inbound = await fromPartner('erin');
    expect([inbound.status, inbound.headers.get('Warning')]).toEqual([403, '399 legacy.contoso.test "external access policy of erin has no EnableXmppAccess"']);
    expect((await t.legacy.sendIm('erin', `carol@${PARTNER}`, 'out')).status).toBe(403);
    expect(t.gateway.received).toEqual([]);
    // Granted (Grant-CsExternalAccessPolicy), he reaches partners and they him.
    t.directory.setXmppAccess('erin', true);
    expect((await fromPartner('erin')).status).toBe(200);
  });

  it("the global policy grants it to users without a policy of their own; a user's own policy wins", () => {
    const global = { enableXmppAccess: true };
    expect(xmppAccessOf({}, undefined)).toBe(false);
    expect(xmppAccessOf({}, global)).toBe(true);
    expect(xmppAccessOf({ xmppAccess: false }, global)).toBe(false);
    expect(xmppAccessOf({ xmppAccess: true }, { enableXmppAccess: false })).toBe(true);
  });

  it('the pool cites the rule where it refuses', async () => {
    const log = new BehaviourLog();
    t = await PoolsUnderTest.start([{ name: 'erin', pool: 'legacy' }], { externalAccessPolicy: null, cite: log.cite });
    const mark = log.mark();
    await fromPartner('erin');
    expect(log.since(mark)).toContain('migration.xmpp-access-required');
  });
});
