import { expect, it } from '@jest/globals';
// The README's Jest example, kept verbatim apart from the assertions, so the README stays true.
import { Federation, SimTopology, XmppUser, sendIm, xfedMatchers } from 'xfed';

expect.extend(xfedMatchers);

it('the README example federates two domains', async () => {
  const fed = await Federation.start({ runtime: 'auto' });
  try {
    const north = await fed.addPartner({ domains: ['north.test'], users: ['alice'] });
    const south = await fed.addPartner({ domains: ['south.test'], users: ['bob'] });
    const login = (p: typeof north, name: string) => XmppUser.connect({ ...p.account(name), endpoint: p.c2s, trustPem: p.trustPem, available: true });
    const alice = await login(north, 'alice');
    const bob = await login(south, 'bob');
    const outcome = await sendIm(alice, bob, 'hello'); // { delivered, ms, stanza, error? }
    await Promise.all([alice.stop(), bob.stop()]);
    expect(outcome).toMatchObject({ delivered: true });
  } finally {
    await fed.stop();
  }
});

it('the README example of the simulated legacy side runs', async () => {
  const topo = await SimTopology.start({
    runtime: 'auto',
    partner: { domains: ['partner.test'], users: ['alice'] },
    sfb: {
      domain: 'contoso.test',
      partnerProfile: { partnerType: 'Federated' },
      users: [
        { name: 'erin', pool: 'legacy', behaviour: 'echo' },
        { name: 'judy', pool: 'sfb2019' },
      ],
    },
  });
  try {
    const alice = await topo.partnerUser('alice');
    await alice.sendMessage('erin@contoso.test', 'hello'); // erin echoes it back over SIP and XMPP
    await alice.waitFor((s) => s.getChildText('body') === 'hello', 5_000, 'the echo');
    await topo.apply({ action: 'move-user', user: 'erin', pool: 'sfb2019' }); // now: forbidden
    const res = (await topo.sfbUser('judy').sendIm('alice@partner.test', 'hi')).sip; // a SIP response
    expect(res.status).toBe(404);
    expect(topo.flow.all().length).toBeGreaterThan(5);
  } finally {
    await topo.stop();
  }
});

// The README's Jest matcher example, verbatim but for the test name and runtime comment.
it('a user moved to 2019 loses XMPP', async () => {
  const topo = await SimTopology.start({
    runtime: 'auto',
    partner: { domains: ['partner.test'], users: ['alice'] },
    sfb: {
      domain: 'contoso.test',
      partnerProfile: { partnerType: 'Federated' }, // SfB's default, PublicUnverified, would hold everything
      users: [
        { name: 'erin', pool: 'legacy' },
        { name: 'gina', pool: 'legacy', behaviour: 'silent' },
      ],
    },
  });
  try {
    const alice = await topo.partnerUser('alice');
    await alice.sendMessage('erin@contoso.test', 'hello');
    await expect(alice).toReceive({ from: 'erin@contoso.test', body: 'hello' }, { within: 2_000 });

    const mark = alice.received().length;
    await alice.sendPresence({ to: 'gina@contoso.test', type: 'subscribe' });
    await expect(alice).toReceiveNothingBefore(() => topo.barrier(alice), { name: 'presence', from: 'gina@contoso.test' }, mark);

    await topo.apply({ action: 'move-user', user: 'erin', pool: 'sfb2019' });
    await alice.sendMessage('erin@contoso.test', 'still there?');
    await expect(alice).toReceive({ from: 'erin@contoso.test', type: 'error' }, { within: 2_000 });
  } finally {
    await topo.stop();
  }
});
