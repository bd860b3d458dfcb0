import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { dnsCheck } from '../../src/checks/dns.js';
import { imCheck } from '../../src/checks/im.js';
import { pollUntil } from '../../src/infra/deadline.js';
import type { LinkEvent } from '../../src/infra/link-proxy.js';
import { resolvePartnerProfile } from '../../src/sfb/partner-profile.js';
import type { MigrationStep } from '../../src/steps/index.js';
import { SimTopology } from '../../src/targets/sim/sim-topology.js';
import { stanza, type XmppUser } from '../../src/xmpp/client.js';
import { imEcho, PARTNER } from '../helpers/sim-support.js';
import { RUNTIMES, describeRuntime } from '../helpers/support.js';

const CONTOSO = 'contoso.test';
const FABRIKAM = 'fabrikam.test';

for (const kind of RUNTIMES) {
  describeRuntime(kind, 'legacy Edge pools and SIP domains (Setting up / Failing over XMPP federation, Certificate summary)', () => {
    let topo: SimTopology;
    let alice: XmppUser;
    /** The pools whose relay took a partner's connection. */
    const connected: string[] = [];
    const apply = (step: MigrationStep) => topo.apply(step);
    const port = (pool: string) => topo.links.relay(pool).address.port;
    const host = (pool: string) => topo.links.relay(pool).address.host;
    /**
     * The pool the partner tried right before edge-b, since its log had `mark` lines, as its
     * Prosody says (debug: "Next target to try is <address>:<port>"); a container's log may arrive
     * after the stanza error.
     */
    const movedOn = (mark: number) =>
      pollUntil(
        () => {
          const pools = topo
            .logs()
            .partner.slice(mark)
            .flatMap((l) => {
              const m = /Next target to try is .*:(\d+)$/.exec(l);
              return m ? topo.links.poolNames.filter((p) => port(p) === Number(m[1])) : [];
            });
          const next = pools.indexOf('edge-b');
          return next < 0 ? undefined : (pools[next - 1] ?? 'nothing');
        },
        { timeoutMs: 5_000, what: 'the partner to try Edge pool edge-b' },
      );
    /** The pools that took the partner's connections while `act` ran (a stanza still queued may reconnect during a step). */
    async function landed(act: () => Promise<unknown>): Promise<string[]> {
      const mark = connected.length;
      await act();
      return [...new Set(connected.slice(mark))];
    }
    const srv = async (domain: string) => {
      const ctx = { target: topo, setup: { partner: { domains: [PARTNER], users: ['alice'] }, sfbDomain: CONTOSO } as never, timeoutMs: 5_000 };
      return (await dnsCheck.run({ id: 'srv', kind: 'dns', domain }, ctx)).outcome;
    };

    beforeAll(async () => {
      topo = await SimTopology.start({
        runtime: kind,
        // At debug, the partner's Prosody names each SRV target it tries.
        partner: { domains: [PARTNER], users: ['alice'], logLevel: 'debug' },
        sfb: {
          domain: CONTOSO,
          additionalDomains: [FABRIKAM],
          edgePools: [{ name: 'edge-a', priority: 10 }, { name: 'edge-b', priority: 20 }, { name: 'edge-c' }],
          partnerProfile: { partnerType: 'Federated' },
          externalAccessPolicy: { enableXmppAccess: true },
          users: [
            { name: 'erin', pool: 'legacy', behaviour: 'echo' },
            { name: 'fiona', pool: 'legacy', behaviour: 'echo', domain: FABRIKAM },
          ],
        },
      });
      for (const pool of topo.links.poolNames) topo.links.relay(pool).on('link', (e: LinkEvent) => e.kind === 'connected' && connected.push(pool));
      alice = await topo.partnerUser('alice');
    });
    afterAll(() => topo?.stop());

    describe('Edge pools', () => {
      const records = (...pools: Array<[string, number]>) =>
        pools.map(([pool, priority]) => `${priority} 5 ${port(pool)} ${pool}.${CONTOSO} -> ${host(pool)}`).join('; ');

      it('publishes one _xmpp-server._tcp SRV record per Edge pool with its priority, in every SIP domain; the dns check lists them in the order partners try them', async () => {
        for (const domain of [CONTOSO, FABRIKAM]) {
          // edge-c has no priority, so no record; every record names the pool's Access Edge in the primary domain.
          expect(await srv(domain)).toEqual({ status: 'pass', text: records(['edge-a', 10], ['edge-b', 20]) });
        }
      });

      it('only the pool on the XMPP federation route listens: the partner reaches it by the first SRV record', async () => {
        await topo.renewS2s();
        const mark = topo.behaviours.mark();
        expect(await landed(async () => expect(await imEcho(alice, `erin@${CONTOSO}`)).toEqual({ delivered: true }))).toEqual(['edge-a']);
        expect(topo.links.relay('edge-b').current.state).toBe('cut');
        expect(topo.links.relay('edge-c').current.state).toBe('cut');
        expect(topo.behaviours.since(mark)).toEqual(expect.arrayContaining(['edge.srv-record', 'edge.srv-priorities', 'edge.bare-domain-san']));
      });

      it('the pool on the XMPP route down: the partner tries the next SRV record, which refuses it too, and SfB users get 503, until XMPP federation fails over', async () => {
        // A stanza still queued may make the partner reconnect, and look the records up, during
        // the step already: the log and the citations are taken from before it.
        const log = topo.logs().partner.length;
        const mark = topo.behaviours.mark();
        await apply({ action: 'edge-pool', pool: 'edge-a', state: 'down' });
        expect(await imEcho(alice, `erin@${CONTOSO}`)).toMatchObject({ delivered: false, condition: 'remote-server-not-found' });
        // Prosody follows the SRV priorities: edge-a (down), then edge-b (off the XMPP route).
        expect(await movedOn(log)).toBe('edge-a');
        expect(topo.behaviours.since(mark)).toEqual(expect.arrayContaining(['edge.pool-down', 'edge.xmpp-pool']));
        expect((await topo.sfbUser('erin').sendIm(alice.bare, 'no route')).sip.status).toBe(503);
      });

      it('failing XMPP federation over to edge-b (Set-CsSite -XmppFederationRoute) restores it both ways, by the SRV record edge-b already had', async () => {
        const pools = await landed(async () => {
          expect(await apply({ action: 'xmpp-failover', to: 'edge-b' })).toBe('fail XMPP federation over to Edge pool edge-b');
          expect(await imEcho(alice, `erin@${CONTOSO}`)).toEqual({ delivered: true });
        });
        expect(pools).toEqual(['edge-b']);
        const body = `from erin ${Math.random().toString(36).slice(2)}`;
        expect((await topo.sfbUser('erin').sendIm(alice.bare, body)).sip.status).toBe(200);
        await alice.waitFor((s) => stanza.message(`erin@${CONTOSO}`)(s) && s.getChildText('body') === body, 5_000, "erin's IM");
        expect((await srv(CONTOSO)).text).toBe(records(['edge-a', 10], ['edge-b', 20]));
      });

      it('edge-a back up stays off the XMPP route: the partner is refused there and goes on to edge-b', async () => {
        const log = topo.logs().partner.length;
        const pools = await landed(async () => {
          await apply({ action: 'edge-pool', pool: 'edge-a', state: 'up' });
          await topo.renewS2s();
          expect(await imEcho(alice, `erin@${CONTOSO}`)).toEqual({ delivered: true });
        });
        expect(pools).toEqual(['edge-b']);
        expect(await movedOn(log)).toBe('edge-a');
      });

      it('failing over to a pool without an SRV record adds its record, first in priority', async () => {
        const pools = await landed(async () => {
          await apply({ action: 'xmpp-failover', to: 'edge-c' });
          expect((await srv(FABRIKAM)).text).toBe(records(['edge-c', 9], ['edge-a', 10], ['edge-b', 20]));
          expect(await imEcho(alice, `erin@${CONTOSO}`)).toEqual({ delivered: true });
        });
        expect(pools).toEqual(['edge-c']);
      });

      it('the edge-pool step changes an SRV priority or removes a record', async () => {
        await apply({ action: 'edge-pool', pool: 'edge-c', priority: 'none' });
        // No record leads to edge-c, the only pool that listens.
        expect(await imEcho(alice, `erin@${CONTOSO}`)).toMatchObject({ delivered: false, condition: 'remote-server-not-found' });
        await apply({ action: 'edge-pool', pool: 'edge-c', priority: 30 });
        expect((await srv(CONTOSO)).text).toBe(records(['edge-a', 10], ['edge-b', 20], ['edge-c', 30]));
        expect(await imEcho(alice, `erin@${CONTOSO}`)).toEqual({ delivered: true });
        // Back as the suite began: XMPP through edge-a, edge-c without a record.
        await apply({ action: 'xmpp-failover', to: 'edge-a' });
        await apply({ action: 'edge-pool', pool: 'edge-c', priority: 'none' });
        expect(await srv(CONTOSO)).toEqual({ status: 'pass', text: records(['edge-a', 10], ['edge-b', 20]) });
        expect(await imEcho(alice, `erin@${CONTOSO}`)).toEqual({ delivered: true });
      });
    });

    describe('SIP domains', () => {
      it('a user of another SIP domain is reached at his own domain, both ways', async () => {
        const mark = topo.behaviours.mark();
        expect(await imEcho(alice, `fiona@${FABRIKAM}`)).toEqual({ delivered: true });
        expect(topo.behaviours.since(mark)).toContain('edge.sip-domains');
        expect(topo.sfbUser('fiona').jid).toBe(`fiona@${FABRIKAM}`);
        const body = `from fiona ${Math.random().toString(36).slice(2)}`;
        expect((await topo.sfbUser('fiona').sendIm(alice.bare, body)).sip.status).toBe(200);
        await alice.waitFor((s) => stanza.message(`fiona@${FABRIKAM}`)(s) && s.getChildText('body') === body, 5_000, "fiona's IM from her own domain");
      });

      it('an SfB user is addressed in his own SIP domain only', async () => {
        expect(await imEcho(alice, `erin@${FABRIKAM}`)).toMatchObject({ delivered: false, condition: 'item-not-found' });
        expect(await imEcho(alice, `fiona@${CONTOSO}`)).toMatchObject({ delivered: false, condition: 'item-not-found' });
      });

      it("a certificate renewed without one SIP domain's bare-domain SAN breaks federation for that domain only", async () => {
        await apply({ action: 'renew-certificate', certificate: 'missing-bare-domain-san', domain: FABRIKAM });
        expect(await imEcho(alice, `fiona@${FABRIKAM}`)).toEqual({
          delivered: false,
          condition: 'remote-server-timeout',
          text: "Server-to-server connection failed: Remote server's certificate is not valid for this name",
        });
        expect(await imEcho(alice, `erin@${CONTOSO}`)).toEqual({ delivered: true });
        await apply({ action: 'renew-certificate', certificate: 'valid' });
        expect(await imEcho(alice, `fiona@${FABRIKAM}`)).toEqual({ delivered: true });
      });

      it('checks address an SfB user of another SIP domain at his own domain', async () => {
        const setup = {
          partner: { domains: [PARTNER], users: ['alice'] },
          sfbDomain: CONTOSO,
          partnerProfile: resolvePartnerProfile({ domain: PARTNER, partnerType: 'Federated' }),
          echoUser: 'erin',
          baseDir: '.',
        };
        const run = await imCheck.run({ id: 'fiona', kind: 'im', from: 'alice', to: 'fiona' }, { target: topo, setup, timeoutMs: 5_000 });
        expect(run.outcome).toMatchObject({ status: 'pass' });
      });
    });
  });
}
