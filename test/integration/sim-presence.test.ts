import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { XmppUser, stanza, xml, type Element } from '../../src/xmpp/client.js';
import { SimTopology } from '../../src/targets/sim/sim-topology.js';
import { DEFAULT_SHOW_MAPPING, SFB_AVAILABILITIES } from '../../src/sfb/availability.js';
import { pollUntil } from '../../src/infra/deadline.js';
import { RUNTIMES, describeRuntime } from '../helpers/support.js';
import { at, cast, nothingBeforeBarrier } from '../helpers/sim-support.js';

const presenceFrom = (from: string, type?: string) => (s: Element) => stanza.presence(type, from)(s);

/** What the gateway said on SIP since `mark` (its requests and its answers), as wire texts. */
function gatewaySaid(topo: SimTopology, mark: number, label: RegExp): string[] {
  return topo.flow
    .since(mark)
    .filter((e) => e.from === 'gateway' && e.to === 'sip-pool' && label.test(e.label))
    .map((e) => e.wire);
}

/** The SIP requests of one method the gateway sent since `mark`. */
function gatewaySent(topo: SimTopology, mark: number, method: string): string[] {
  return topo.flow
    .since(mark)
    .filter((e) => e.from === 'gateway' && e.to === 'sip-pool' && e.label === `SIP ${method}`)
    .map((e) => e.wire);
}

for (const kind of RUNTIMES) {
  describeRuntime(kind, 'presence across the simulated legacy gateway (RFC 8048)', () => {
    let topo: SimTopology;
    beforeAll(async () => {
      // Short subscriptions, so refreshes happen within the tests.
      const options = cast(kind, { partnerType: 'Federated' }, { subscriptionExpires: 3 });
      // Users for the moves, the policy change and the restart, each his own.
      options.sfb.users.push(
        { name: 'oscar', pool: 'legacy', behaviour: 'accept' },
        { name: 'pia', pool: 'legacy', behaviour: 'accept' },
        { name: 'quinn', pool: 'legacy', behaviour: 'accept' },
      );
      topo = await SimTopology.start(options);
    });
    afterAll(() => topo?.stop());

    describe('a partner user subscribes to an SfB user (Federated partner)', () => {
      it('an echo user approves at once: SUBSCRIBE (Event presence, PIDF), subscribed, then presence', async () => {
        const alice = await topo.partnerUser('alice');
        const mark = topo.flow.mark();
        await alice.sendPresence({ to: at('erin'), type: 'subscribe' });
        await alice.waitFor(presenceFrom(at('erin'), 'subscribed'), 5_000, 'subscribed');
        const p = await alice.waitFor(presenceFrom(at('erin')), 5_000, "erin's presence");
        expect(p.stanza.getChild('show')).toBeUndefined();
        const [subscribe] = gatewaySent(topo, mark, 'SUBSCRIBE');
        expect(subscribe).toMatch(/\r\nEvent: presence\r\n/);
        expect(subscribe).toMatch(/\r\nAccept: application\/pidf\+xml\r\n/);
        expect(subscribe).toMatch(/\r\nExpires: 3\r\n/);
      });

      it('a Busy user with a note: show dnd and the note as status (Federated partners see notes)', async () => {
        const bob = await topo.partnerUser('bob');
        await bob.sendPresence({ to: at('frank'), type: 'subscribe' });
        await bob.waitFor(presenceFrom(at('frank'), 'subscribed'), 5_000, 'subscribed');
        const p = await bob.waitFor(presenceFrom(at('frank')), 5_000, "frank's presence");
        expect(p.stanza.getChildText('show')).toBe('dnd');
        expect(p.stanza.getChildText('status')).toBe('In a meeting');
      });

      it('a Federated partner needs no approval: a user who never answers (silent) is subscribed all the same', async () => {
        const carol = await topo.partnerUser('carol');
        await carol.sendPresence({ to: at('gina'), type: 'subscribe' });
        await carol.waitFor(presenceFrom(at('gina'), 'subscribed'), 5_000, 'subscribed');
        await carol.waitFor(presenceFrom(at('gina')), 5_000, "gina's presence");
      });

      it('a user who rejects: unsubscribed', async () => {
        const carol = await topo.partnerUser('carol');
        await carol.sendPresence({ to: at('hugo'), type: 'subscribe' });
        await carol.waitFor(presenceFrom(at('hugo'), 'unsubscribed'), 5_000, 'unsubscribed');
      });

      it('a user on the 2019 pool: the subscription fails with forbidden', async () => {
        const carol = await topo.partnerUser('carol');
        await carol.sendPresence({ to: at('judy'), type: 'subscribe', id: 'sub-judy' });
        const e = await carol.waitFor((s) => s.is('presence') && s.attrs.type === 'error' && s.attrs.from?.startsWith('judy@'), 5_000, 'an error');
        expect(e.stanza.getChild('error')?.getChild('forbidden')).toBeDefined();
      });

      it('every SfB availability reaches the watcher with the documented mapping', async () => {
        const dave = await topo.partnerUser('dave');
        await dave.sendPresence({ to: at('leo'), type: 'subscribe' });
        await dave.waitFor(presenceFrom(at('leo'), 'subscribed'), 5_000, 'subscribed');
        await dave.waitFor(presenceFrom(at('leo')), 5_000, "leo's first presence");
        for (const availability of SFB_AVAILABILITIES) {
          await topo.sfbUser('leo').setAvailability(availability, `now ${availability}`);
          const want = DEFAULT_SHOW_MAPPING[availability];
          const p = await dave.waitFor(
            (s) => s.is('presence') && s.attrs.from?.startsWith('leo@') === true && s.attrs.type !== 'subscribed',
            5_000,
            `leo ${availability}`,
          );
          expect({ availability, type: p.stanza.attrs.type, show: p.stanza.getChildText('show') ?? undefined }).toEqual({
            availability,
            type: want.basic === 'closed' ? 'unavailable' : undefined,
            show: want.show,
          });
          if (want.basic === 'open') expect(p.stanza.getChildText('status')).toBe(`now ${availability}`);
        }
        await topo.sfbUser('leo').setAvailability('Available');
      });

      it('a new session of the watcher makes its server probe: SUBSCRIBE with Expires 0, answered with presence', async () => {
        const mark = topo.flow.mark();
        const account = topo.partner.account('dave');
        const second = await XmppUser.connect({ ...account, endpoint: topo.partner.c2s, trustPem: topo.partner.trustPem, available: true, resource: 'second' });
        try {
          await second.waitFor(presenceFrom(at('leo')), 5_000, "leo's presence after the probe");
          expect(gatewaySent(topo, mark, 'SUBSCRIBE').some((w) => /\r\nExpires: 0\r\n/.test(w))).toBe(true);
        } finally {
          await second.stop();
        }
      });

      it('the gateway refreshes its subscriptions before they expire', async () => {
        const refreshed = await topo.waitForSfbEvent((e) => e.user === 'leo' && e.kind === 'refresh', 5_000, "a refresh of dave's subscription to leo");
        expect(refreshed.from).toMatch(/^sip:dave@partner\.test/);
      });

      it('unsubscribe ends the SIP subscription (SUBSCRIBE Expires 0 in the dialog)', async () => {
        const dave = await topo.partnerUser('dave');
        const ended = topo.waitForSfbEvent((e) => e.user === 'leo' && e.kind === 'unsubscribe', 5_000, 'the unsubscribe at leo');
        await dave.sendPresence({ to: at('leo'), type: 'unsubscribe' });
        await ended;
      });
    });

    describe('an SfB user adds a partner contact', () => {
      it('the partner user gets subscribe; approval makes the SIP subscription active with PIDF presence', async () => {
        const alice = await topo.partnerUser('alice');
        const adding = topo.sfbUser('nora').addContact(alice.bare);
        const req = await alice.waitFor(presenceFrom(at('nora'), 'subscribe'), 5_000, "nora's subscribe");
        expect((await adding).status).toBe(202);
        await alice.sendPresence({ to: req.stanza.attrs.from as string, type: 'subscribed' });
        await pollUntil(() => (topo.pools.legacy.contactPresence('nora', alice.bare)?.presence?.basic === 'open' ? true : undefined), {
          timeoutMs: 5_000,
          what: "alice's presence at nora",
        });
        await alice.sendPresence({}, xml('show', {}, 'away'), xml('status', {}, 'lunch'));
        const notify = await topo.waitForSfbEvent(
          (e) => e.user === 'nora' && e.kind === 'notify' && e.presence?.show === 'away',
          5_000,
          'the NOTIFY with away',
        );
        expect(notify.presence).toMatchObject({ basic: 'open', show: 'away', note: 'lunch' });
        await alice.sendPresence({});
      });

      it('a partner user who refuses: the SIP subscription ends as rejected', async () => {
        const bob = await topo.partnerUser('bob');
        topo
          .sfbUser('mia')
          .addContact(bob.bare)
          .catch(() => undefined);
        const req = await bob.waitFor(presenceFrom(at('mia'), 'subscribe'), 5_000, "mia's subscribe");
        const ended = topo.waitForSfbEvent(
          (e) => e.user === 'mia' && e.kind === 'notify' && /terminated;reason=rejected/.test(e.subscriptionState ?? ''),
          5_000,
          'the rejection at mia',
        );
        await bob.sendPresence({ to: req.stanza.attrs.from as string, type: 'unsubscribed' });
        await ended;
      });

      it('removing the contact: the partner user gets unavailable, not unsubscribe (RFC 8048 section 5.3.3)', async () => {
        const alice = await topo.partnerUser('alice');
        const mark = alice.mark();
        await topo.sfbUser('nora').removeContact(alice.bare);
        await alice.waitFor(presenceFrom(at('nora'), 'unavailable'), 5_000, "nora's unavailable");
        expect(
          await nothingBeforeBarrier(alice, mark, (s) => s.is('presence') && s.attrs.from?.startsWith('nora@') === true && s.attrs.type === 'unsubscribe'),
        ).toEqual([]);
        await pollUntil(() => (topo.pools.legacy.contactPresence('nora', alice.bare)?.state === 'terminated' ? true : undefined), {
          timeoutMs: 5_000,
          what: 'the subscription ended at nora',
        });
      });
    });

    describe('moves, policies and restarts', () => {
      it("a moved user's watchers see the break: deactivated, the new SUBSCRIBE refused, unsubscribed; moved back, a new subscription works", async () => {
        const alice = await topo.partnerUser('alice');
        const dave = await topo.partnerUser('dave');
        await alice.sendPresence({ to: at('oscar'), type: 'subscribe' });
        await alice.waitFor(presenceFrom(at('oscar'), 'subscribed'), 5_000, 'subscribed');
        // oscar watches dave too.
        topo
          .sfbUser('oscar')
          .addContact(dave.bare)
          .catch(() => undefined);
        const req = await dave.waitFor(presenceFrom(at('oscar'), 'subscribe'), 5_000, "oscar's subscribe");
        await dave.sendPresence({ to: req.stanza.attrs.from as string, type: 'subscribed' });
        await pollUntil(() => (topo.pools.legacy.contactPresence('oscar', dave.bare)?.state === 'active' ? true : undefined), {
          timeoutMs: 5_000,
          what: 'oscar watching dave',
        });
        const mark = topo.flow.mark();
        await topo.apply({ action: 'move-user', user: 'oscar', pool: 'sfb2019' });
        await alice.waitFor(presenceFrom(at('oscar'), 'unsubscribed'), 5_000, 'unsubscribed after the move');
        await dave.waitFor(presenceFrom(at('oscar'), 'unavailable'), 5_000, 'oscar gone from dave');
        expect(
          topo.flow
            .since(mark)
            .filter((e) => e.from === 'sip-pool' && e.to === 'gateway' && /Subscription-State: terminated;reason=deactivated\r\n/.test(e.wire)),
        ).toHaveLength(1);
        // The gateway subscribed again at once; the 2019 pool, oscar's home now, refused it.
        expect(
          topo.flow
            .since(mark)
            .filter((e) => e.from === 'sip-pool' && e.to === 'gateway' && /^SIP 403 .*\(SUBSCRIBE\)$/.test(e.label) && /\r\nTo: <sip:oscar@/.test(e.wire)),
        ).toHaveLength(1);
        expect(topo.pools.sfb2019.contactPresence('oscar', dave.bare)).toEqual({ state: 'terminated', reason: '404 Not Found' });
        // Moved back: a new subscription works, and oscar's client watches dave again.
        await topo.apply({ action: 'move-user', user: 'oscar', pool: 'legacy' });
        await alice.sendPresence({ to: at('oscar'), type: 'subscribe' });
        await alice.waitFor(presenceFrom(at('oscar'), 'subscribed'), 5_000, 'subscribed again');
        await pollUntil(() => (topo.pools.legacy.contactPresence('oscar', dave.bare)?.state === 'active' ? true : undefined), {
          timeoutMs: 5_000,
          what: 'oscar watching dave again',
        });
      });

      it('a user whose EnableXmppAccess is revoked: his XMPP watchers get unsubscribed', async () => {
        const bob = await topo.partnerUser('bob');
        await bob.sendPresence({ to: at('pia'), type: 'subscribe' });
        await bob.waitFor(presenceFrom(at('pia'), 'subscribed'), 5_000, 'subscribed');
        await topo.apply({ action: 'set-policy', user: 'pia', xmppAccess: false });
        await bob.waitFor(presenceFrom(at('pia'), 'unsubscribed'), 5_000, 'unsubscribed after the policy change');
        await topo.apply({ action: 'set-policy', user: 'pia', xmppAccess: true });
      });

      it('the gateway service restarted: its dialogs are lost; NOTIFYs get 481, SfB users subscribe anew, a new session probes presence back', async () => {
        // carol watches quinn; quinn watches alice (who does not watch him, so her server does not
        // probe him when he subscribes again).
        const carol = await topo.partnerUser('carol');
        const alice = await topo.partnerUser('alice');
        await carol.sendPresence({ to: at('quinn'), type: 'subscribe' });
        await carol.waitFor(presenceFrom(at('quinn'), 'subscribed'), 5_000, 'subscribed');
        topo
          .sfbUser('quinn')
          .addContact(alice.bare)
          .catch(() => undefined);
        const req = await alice.waitFor(presenceFrom(at('quinn'), 'subscribe'), 5_000, "quinn's subscribe");
        await alice.sendPresence({ to: req.stanza.attrs.from as string, type: 'subscribed' });
        await pollUntil(() => (topo.pools.legacy.contactPresence('quinn', alice.bare)?.state === 'active' ? true : undefined), {
          timeoutMs: 5_000,
          what: 'quinn watching alice',
        });
        const mark = topo.flow.mark();
        const received = carol.mark();
        await topo.apply({ action: 'gateway', state: 'restarted' });
        // quinn's next refresh gets 481, and his client subscribes anew: alice's server approves at once.
        await pollUntil(
          () => {
            const since = topo.flow.since(mark);
            const lost = since.findIndex((e) => e.from === 'gateway' && /^SIP 481 .*\(SUBSCRIBE\)$/.test(e.label));
            const renewed = since
              .slice(lost + 1)
              .some(
                (e) => e.from === 'gateway' && e.label === 'SIP NOTIFY' && /\r\nSubscription-State: active/.test(e.wire) && /\r\nTo: <sip:quinn@/.test(e.wire),
              );
            return lost >= 0 && renewed ? true : undefined;
          },
          { timeoutMs: 8_000, what: "quinn's refresh refused 481, then his new subscription to carol active" },
        );
        // The pool's NOTIFY of a change gets 481: carol hears nothing of it.
        await topo.sfbUser('quinn').setAvailability('Away', 'after the restart');
        expect(gatewaySaid(topo, mark, /^SIP 481 .*\(NOTIFY\)$/)).not.toEqual([]);
        expect(
          await nothingBeforeBarrier(carol, received, (s) => s.is('presence') && s.attrs.from?.startsWith('quinn@') === true && s.attrs.type === undefined),
        ).toEqual([]);
        expect(topo.pools.legacy.watchers('quinn')).toEqual([]);
        // quinn's new subscription carries alice's presence.
        await alice.sendPresence({}, xml('show', {}, 'dnd'));
        await pollUntil(() => (topo.pools.legacy.contactPresence('quinn', alice.bare)?.presence?.show === 'dnd' ? true : undefined), {
          timeoutMs: 5_000,
          what: "alice's dnd at quinn",
        });
        await alice.sendPresence({});
        // A new session of carol makes her server probe: the presence comes back.
        const account = topo.partner.account('carol');
        const second = await XmppUser.connect({
          ...account,
          endpoint: topo.partner.c2s,
          trustPem: topo.partner.trustPem,
          available: true,
          resource: 'after-restart',
        });
        try {
          const p = await second.waitFor(presenceFrom(at('quinn')), 5_000, "quinn's presence after the probe");
          expect(p.stanza.getChildText('show')).toBe('xa');
        } finally {
          await second.stop();
        }
        await topo.sfbUser('quinn').setAvailability('Available');
      });
    });

    describe('partner types', () => {
      it('PublicVerified: subscriptions are accepted, but status notes never reach the partner', async () => {
        await topo.apply({ action: 'set-partner', profile: { partnerType: 'PublicVerified' } });
        const carol = await topo.partnerUser('carol');
        await carol.sendPresence({ to: at('frank'), type: 'subscribe' });
        await carol.waitFor(presenceFrom(at('frank'), 'subscribed'), 5_000, 'subscribed');
        const p = await carol.waitFor(presenceFrom(at('frank')), 5_000, "frank's presence");
        expect(p.stanza.getChildText('show')).toBe('dnd');
        expect(p.stanza.getChild('status')).toBeUndefined();
      });

      it('PublicUnverified: IM refused and the subscription held until the SfB user adds the partner', async () => {
        await topo.apply({ action: 'set-partner', profile: { partnerType: 'PublicUnverified' } });
        const bob = await topo.partnerUser('bob');
        // erin adds bob, so her echo can serve as the barrier.
        topo
          .sfbUser('erin')
          .addContact(bob.bare)
          .catch(() => undefined);
        await bob.waitFor(presenceFrom(at('erin'), 'subscribe'), 5_000, "erin's subscribe");
        const id = await bob.sendMessage(at('leo'), 'hello leo');
        const refused = await bob.waitFor((s) => s.attrs.id === id && s.attrs.type === 'error', 5_000, 'the refusal');
        expect(refused.stanza.getChild('error')?.getChild('forbidden')).toBeDefined();
        const mark = bob.mark();
        await bob.sendPresence({ to: at('leo'), type: 'subscribe' });
        expect(await nothingBeforeBarrier(bob, mark, (s) => s.is('presence') && s.attrs.from?.startsWith('leo@'))).toEqual([]);
        // leo adds bob: bob gets leo's request, and his own held one is approved.
        await topo.sfbUser('leo').addContact(bob.bare);
        await bob.waitFor(presenceFrom(at('leo'), 'subscribe'), 5_000, "leo's subscribe");
        await bob.waitFor(presenceFrom(at('leo'), 'subscribed'), 5_000, 'the held subscription approved');
        await bob.sendMessage(at('leo'), 'now allowed');
        await topo.waitForSfbEvent((e) => e.user === 'leo' && e.kind === 'im' && e.body === 'now allowed', 5_000, 'leo gets the IM');
        // bob watched frank under a Federated profile; frank never added him: a new session's probe
        // is answered unsubscribed, and no presence (nor note) leaks.
        const flowMark = topo.flow.mark();
        const account = topo.partner.account('bob');
        const second = await XmppUser.connect({
          ...account,
          endpoint: topo.partner.c2s,
          trustPem: topo.partner.trustPem,
          available: true,
          resource: 'probing',
        });
        try {
          await pollUntil(
            () =>
              topo.flow
                .since(flowMark)
                .some((e) => e.from === 'gateway' && e.protocol === 'xmpp' && /from="frank@[^"]*" to="bob@[^"]*" type="unsubscribed"/.test(e.wire))
                ? true
                : undefined,
            { timeoutMs: 5_000, what: "the gateway's answer to bob's probe of frank" },
          );
          expect(
            await nothingBeforeBarrier(second, 0, (s) => s.is('presence') && s.attrs.from?.startsWith('frank@') === true && s.attrs.type === undefined),
          ).toEqual([]);
          // No new SUBSCRIBE for the probe (refreshes of earlier dialogs, with a To tag, may come at any time).
          const newSubscribes = gatewaySent(topo, flowMark, 'SUBSCRIBE').filter((w) => w.startsWith('SUBSCRIBE sip:frank@') && !/\nTo: [^\r\n]*;tag=/.test(w));
          expect(newSubscribes).toEqual([]);
        } finally {
          await second.stop();
        }
        await topo.apply({ action: 'set-partner', profile: { partnerType: 'Federated' } });
      });
    });
  });
}
