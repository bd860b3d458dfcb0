// xfed from Jest, without YAML: a topology, users on both sides, a migration step, and the
// custom matchers. This file is the example the README points to.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { SimTopology, xfedMatchers, type XmppUser } from 'xfed';
import { RUNTIMES, describeRuntime } from '../helpers/support.js';

expect.extend(xfedMatchers);

for (const kind of RUNTIMES) {
  describeRuntime(kind, 'the Jest API', () => {
    let topo: SimTopology;
    let alice: XmppUser;
    beforeAll(async () => {
      topo = await SimTopology.start({
        runtime: kind,
        partner: { domains: ['partner.test'], users: ['alice'] },
        sfb: {
          domain: 'contoso.test',
          partnerProfile: { partnerType: 'Federated' },
          // The global external access policy grants XMPP (its default, False, would refuse them all).
          externalAccessPolicy: { enableXmppAccess: true },
          users: [
            { name: 'erin', pool: 'legacy', behaviour: 'echo' },
            { name: 'gina', pool: 'legacy', behaviour: 'silent' },
            { name: 'mia', pool: 'legacy', behaviour: 'echo' },
          ],
        },
      });
      alice = await topo.partnerUser('alice');
    });
    afterAll(() => topo?.stop());

    it('toReceive: an echo comes back', async () => {
      await alice.sendMessage('erin@contoso.test', 'hello from Jest');
      await expect(alice).toReceive({ from: 'erin@contoso.test', body: 'hello from Jest' }, { within: 2_000 });
    });

    it('toReceiveNothingBefore: a change of a user nobody watches sends nothing', async () => {
      const mark = alice.mark();
      await topo.sfbUser('gina').setAvailability('Away');
      await expect(alice).toReceiveNothingBefore(() => topo.barrier(alice), { name: 'presence', from: 'gina@contoso.test' }, mark);
    });

    it('a migration step, then the documented break', async () => {
      await topo.apply({ action: 'move-user', user: 'mia', pool: 'sfb2019' });
      const id = await alice.sendMessage('mia@contoso.test', 'are you there?');
      await expect(alice).toReceive({ type: 'error', from: 'mia@contoso.test' }, { within: 2_000 });
      expect(alice.received().some((r) => r.stanza.attrs.id === id && r.stanza.getChild('error')?.getChild('forbidden'))).toBe(true);
    });

    it('a failing toReceive says what it waited for', async () => {
      await expect(expect(alice).toReceive({ body: 'never sent' }, { within: 50 })).rejects.toThrow(/to receive .*never sent.* within 50 ms/);
    });
  });
}
