import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pollUntil } from '../../src/infra/deadline.js';
import { SimTopology } from '../../src/targets/sim/sim-topology.js';
import type { MigrationStep } from '../../src/steps/index.js';
import type { XmppUser } from '../../src/xmpp/client.js';
import { RUNTIMES, describeRuntime } from '../helpers/support.js';
import { at, cast, imEcho } from '../helpers/sim-support.js';

let diagnosis: (() => { partner: string[]; edge: string[] }) | undefined;

/** An SfB user's IM to a partner user: the SIP status his pool answered. */
async function imFromSfb(topo: SimTopology, from: string, to: XmppUser): Promise<{ accepted: boolean; status: number }> {
  const res = await topo.sfbUser(from).sendIm(to.bare, `from ${from} ${Math.random().toString(36).slice(2)}`);
  return { accepted: res.accepted, status: res.sip.status };
}

/** Container logs arrive through Docker's log stream, possibly after the bounce. */
const edgeLogSays = (topo: SimTopology, line: RegExp) =>
  pollUntil(() => (topo.edge.logs().some((l) => line.test(l)) ? true : undefined), { timeoutMs: 5_000, what: `${String(line)} in the Edge log` });

for (const kind of RUNTIMES) {
  describeRuntime(kind, 'migration steps, applied live (docs/sfb-xmpp-federation.md section 6)', () => {
    let topo: SimTopology;
    let alice: XmppUser;
    const apply = (step: MigrationStep) => topo.apply(step);
    beforeAll(async () => {
      topo = await SimTopology.start(cast(kind));
      diagnosis = () => topo.logs();
      alice = await topo.partnerUser('alice');
      expect(await imEcho(alice, at('mia'), diagnosis)).toEqual({ delivered: true });
    });
    afterAll(() => topo?.stop());

    describe('users', () => {
      it('an XMPP user moved to the 2019 pool loses federation (forbidden), and gets it back when moved back', async () => {
        await apply({ action: 'move-user', user: 'mia', pool: 'sfb2019' });
        expect(await imEcho(alice, at('mia'), diagnosis)).toMatchObject({
          delivered: false,
          condition: 'forbidden',
          text: expect.stringMatching(/no XMPP gateway/i),
        });
        expect((await topo.sfbUser('mia').sendIm(alice.bare, 'from 2019')).sip.status).toBeGreaterThanOrEqual(400);
        await apply({ action: 'move-user', user: 'mia', pool: 'legacy' });
        expect(await imEcho(alice, at('mia'), diagnosis)).toEqual({ delivered: true });
      });

      it('a policy without EnableXmppAccess breaks it for that user only, both ways', async () => {
        await apply({ action: 'set-policy', user: 'mia', xmppAccess: false });
        expect(await imEcho(alice, at('mia'), diagnosis)).toMatchObject({ delivered: false, condition: 'forbidden' });
        expect((await topo.sfbUser('mia').sendIm(alice.bare, 'no policy')).sip.status).toBe(403);
        expect(await imEcho(alice, at('erin'), diagnosis)).toEqual({ delivered: true });
        await apply({ action: 'set-policy', user: 'mia', xmppAccess: true });
        expect(await imEcho(alice, at('mia'), diagnosis)).toEqual({ delivered: true });
        expect(await imFromSfb(topo, 'mia', alice)).toEqual({ accepted: true, status: 200 });
      });
    });

    describe('Edge and DNS', () => {
      it('a 2019 Edge in place of the legacy one has no XMPP proxy: S2S refused for everyone', async () => {
        await apply({ action: 'replace-edge', edge: 'sfb2019' });
        expect(await imEcho(alice, at('erin'), diagnosis)).toMatchObject({ delivered: false, condition: 'remote-server-not-found' });
        await apply({ action: 'replace-edge', edge: 'legacy' });
        expect(await imEcho(alice, at('erin'), diagnosis)).toEqual({ delivered: true });
      });

      it('the SRV record pointed at the 2019 Edge breaks S2S; removed, the domain does not resolve; restored, it works', async () => {
        await apply({ action: 'srv-record', target: 'sfb2019-edge' });
        expect(await imEcho(alice, at('erin'), diagnosis)).toMatchObject({ delivered: false, condition: 'remote-server-not-found' });
        await apply({ action: 'srv-record', target: 'none' });
        expect(await imEcho(alice, at('erin'), diagnosis)).toMatchObject({ delivered: false, condition: 'remote-server-not-found' });
        await apply({ action: 'srv-record', target: 'legacy-edge' });
        expect(await imEcho(alice, at('erin'), diagnosis)).toEqual({ delivered: true });
      });

      it.each([
        ['missing-bare-domain-san', 'is not valid for this name'],
        ['expired', 'has expired'],
        ['untrusted-ca', 'is not trusted'],
      ] as const)('a renewed Edge certificate that is %s fails verification: remote-server-timeout, "certificate %s"', async (certificate, why) => {
        await apply({ action: 'renew-certificate', certificate });
        expect(await imEcho(alice, at('erin'), diagnosis)).toEqual({
          delivered: false,
          condition: 'remote-server-timeout',
          text: `Server-to-server connection failed: Remote server's certificate ${why}`,
        });
        await apply({ action: 'renew-certificate', certificate: 'valid' });
        expect(await imEcho(alice, at('erin'), diagnosis)).toEqual({ delivered: true });
      });
    });

    describe('allowed partners', () => {
      it('removing the partner from the allowed list refuses its S2S stream; adding it back restores it', async () => {
        await apply({ action: 'remove-partner' });
        expect(await imEcho(alice, at('erin'), diagnosis)).toMatchObject({ delivered: false });
        await edgeLogSays(topo, /not an allowed XMPP partner/);
        await apply({ action: 'set-partner', profile: { partnerType: 'Federated' } });
        expect(await imEcho(alice, at('erin'), diagnosis)).toEqual({ delivered: true });
      });

      it('a profile the partner cannot meet (no TLS while the partner requires it) breaks federation', async () => {
        await apply({ action: 'set-partner', profile: { tlsNegotiation: 'NotSupported', saslNegotiation: 'NotSupported', supportDialbackNegotiation: true } });
        expect(await imEcho(alice, at('erin'), diagnosis)).toMatchObject({ delivered: false });
        await apply({ action: 'set-partner', profile: { tlsNegotiation: 'Required', saslNegotiation: 'Required' } });
        expect(await imEcho(alice, at('erin'), diagnosis)).toEqual({ delivered: true });
      });
    });

    describe('federation routes, the Access Edge and the central management store', () => {
      it('the XMPP federation route through the 2019 Edge, or none, cuts the legacy pool off XMPP both ways; back through the legacy Edge, it works', async () => {
        for (const to of ['sfb2019-edge', 'none'] as const) {
          await apply({ action: 'federation-route', route: 'xmpp', to });
          expect(topo.gateway.attached).toBe(false);
          // Only the Edge pool on the XMPP route listens for XMPP: the partner finds no listener.
          expect(await imEcho(alice, at('erin'), diagnosis)).toMatchObject({ delivered: false, condition: 'remote-server-not-found' });
          expect(await imFromSfb(topo, 'erin', alice)).toEqual({ accepted: false, status: 503 });
        }
        await apply({ action: 'federation-route', route: 'xmpp', to: 'legacy-edge' });
        expect(await imEcho(alice, at('erin'), diagnosis)).toEqual({ delivered: true });
        expect(await imFromSfb(topo, 'erin', alice)).toEqual({ accepted: true, status: 200 });
      });

      it('the SIP federation route moved to the 2019 Edge, or disabled, leaves XMPP working both ways', async () => {
        for (const to of ['sfb2019-edge', 'none'] as const) {
          await apply({ action: 'federation-route', route: 'sip', to });
          expect(topo.deployment.federation.routes).toEqual({ sip: to, xmpp: 'legacy-edge' });
          expect(await imEcho(alice, at('erin'), diagnosis)).toEqual({ delivered: true });
          expect(await imFromSfb(topo, 'erin', alice)).toEqual({ accepted: true, status: 200 });
        }
        await apply({ action: 'federation-route', route: 'sip', to: 'legacy-edge' });
      });

      it('AllowFederatedUsers $false refuses every partner stream, both ways; $true again, it works', async () => {
        await apply({ action: 'access-edge', allowFederatedUsers: false });
        expect(await imEcho(alice, at('erin'), diagnosis)).toMatchObject({ delivered: false });
        expect(await imFromSfb(topo, 'erin', alice)).toMatchObject({ accepted: false });
        await edgeLogSays(topo, /Refusing S2S with partner\.test: .*AllowFederatedUsers \$false/);
        await apply({ action: 'access-edge', allowFederatedUsers: true });
        expect(await imEcho(alice, at('erin'), diagnosis)).toEqual({ delivered: true });
        expect(await imFromSfb(topo, 'erin', alice)).toEqual({ accepted: true, status: 200 });
      });

      it('the legacy Access Edge service stopped leaves XMPP working: the XMPP proxy is a service of its own', async () => {
        // As "Configure federation routes and media traffic" has it: SIP federation to the 2019 Edge, the legacy Access Edge stopped.
        await apply({ action: 'federation-route', route: 'sip', to: 'sfb2019-edge' });
        await apply({ action: 'access-edge', service: 'stopped' });
        expect(topo.deployment.federation).toMatchObject({ accessEdgeService: 'stopped', xmppProxyService: 'started' });
        expect(await imEcho(alice, at('erin'), diagnosis)).toEqual({ delivered: true });
        expect(await imFromSfb(topo, 'erin', alice)).toEqual({ accepted: true, status: 200 });
        await apply({ action: 'access-edge', service: 'started' });
        await apply({ action: 'federation-route', route: 'sip', to: 'legacy-edge' });
      });

      it('the XMPP Translating Gateway Proxy service stopped closes the legacy Edge to partners; started, it works', async () => {
        await apply({ action: 'xmpp-proxy', service: 'stopped' });
        expect([topo.edge.running, topo.gateway.attached]).toEqual([false, false]);
        expect(await imEcho(alice, at('erin'), diagnosis)).toMatchObject({ delivered: false, condition: 'remote-server-not-found' });
        expect(await imFromSfb(topo, 'erin', alice)).toEqual({ accepted: false, status: 503 });
        await apply({ action: 'xmpp-proxy', service: 'started' });
        expect(await imEcho(alice, at('erin'), diagnosis)).toEqual({ delivered: true });
        expect(await imFromSfb(topo, 'erin', alice)).toEqual({ accepted: true, status: 200 });
      });

      it('the central management store moved to the 2019 pool takes the partner configuration off the legacy Edge; moved back, it works', async () => {
        await apply({ action: 'move-cms', to: 'sfb2019' });
        expect(topo.partnerProfiles).toEqual([]);
        expect(await imEcho(alice, at('erin'), diagnosis)).toMatchObject({ delivered: false });
        expect(await imFromSfb(topo, 'erin', alice)).toMatchObject({ accepted: false });
        await edgeLogSays(topo, /not an allowed XMPP partner/);
        // A partner profile changed meanwhile is kept, not published, until the store is back.
        await apply({ action: 'set-partner', profile: { description: 'changed while the store was on 2019' } });
        expect(topo.partnerProfiles).toEqual([]);
        await apply({ action: 'move-cms', to: 'legacy' });
        expect(topo.partnerProfiles).toMatchObject([{ domain: 'partner.test', partnerType: 'Federated', description: 'changed while the store was on 2019' }]);
        expect(await imEcho(alice, at('erin'), diagnosis)).toEqual({ delivered: true });
        expect(await imFromSfb(topo, 'erin', alice)).toEqual({ accepted: true, status: 200 });
      });
    });

    describe('gateway and network', () => {
      it('a stopped gateway: the Edge answers "Component unavailable"; started again, it works', async () => {
        await apply({ action: 'gateway', state: 'stopped' });
        // Prosody's answer for a domain whose component is not connected.
        expect(await imEcho(alice, at('erin'), diagnosis)).toMatchObject({
          delivered: false,
          condition: 'remote-server-timeout',
          text: 'Component unavailable',
        });
        await apply({ action: 'gateway', state: 'started' });
        expect(await imEcho(alice, at('erin'), diagnosis)).toEqual({ delivered: true });
        await apply({ action: 'gateway', state: 'restarted' });
        expect(await imEcho(alice, at('erin'), diagnosis)).toEqual({ delivered: true });
      });

      it('a cut link fails S2S; restored, it works; slowed, IM still arrives, later', async () => {
        await apply({ action: 'network', state: 'cut' });
        expect(await imEcho(alice, at('erin'), diagnosis)).toMatchObject({ delivered: false, condition: 'remote-server-not-found' });
        await apply({ action: 'network', state: 'restored' });
        expect(await imEcho(alice, at('erin'), diagnosis)).toEqual({ delivered: true });
        await apply({ action: 'network', state: 'slow', delay: 150 });
        const started = performance.now();
        expect(await imEcho(alice, at('erin'), diagnosis)).toEqual({ delivered: true });
        // Both S2S hops of the round trip cross the slowed link at least once.
        expect(performance.now() - started).toBeGreaterThanOrEqual(300);
        await apply({ action: 'network', state: 'restored' });
      });
    });
  });
}
