import { expect, it } from '@jest/globals';
// The README's Jest example, kept verbatim apart from the assertions, so the README stays true.
import { rm } from 'node:fs/promises';
import { Federation, SimTopology, XmppUser, fileReporters, loadSuite, runSuite, sendIm, xfedMatchers, type Reporter } from 'xfed';

expect.extend(xfedMatchers);

it('the README example federates two domains', async () => {
  await using fed = await Federation.start({ runtime: 'auto' }); // stopped at the end of the block, also on SIGINT/SIGTERM
  const north = await fed.addPartner({ domains: ['north.test'], users: ['alice'] });
  const south = await fed.addPartner({ domains: ['south.test'], users: ['bob'] });
  const login = (p: typeof north, name: string) => XmppUser.connect({ ...p.account(name), endpoint: p.c2s, trustPem: p.trustPem, available: true });
  await using alice = await login(north, 'alice');
  await using bob = await login(south, 'bob');
  const outcome = await sendIm(alice, bob, 'hello'); // { delivered, ms, stanza, error? }
  expect(outcome).toMatchObject({ delivered: true });
});

it('the README example of the simulated legacy side runs', async () => {
  // `await using` stops it (and everything it started) when the block ends, however it ends.
  await using topo = await SimTopology.start({
    runtime: 'auto',
    partner: { domains: ['partner.test'], users: ['alice'] },
    sfb: {
      domain: 'contoso.test',
      partnerProfile: { partnerType: 'Federated' },
      users: [
        { name: 'erin', pool: 'legacy', behaviour: 'echo', xmppAccess: true }, // EnableXmppAccess: its default is False
        { name: 'judy', pool: 'sfb2019' },
      ],
    },
  });
  const alice = await topo.partnerUser('alice');
  await alice.sendMessage('erin@contoso.test', 'hello'); // erin echoes it back over SIP and XMPP
  await alice.waitFor((s) => s.getChildText('body') === 'hello', 5_000, 'the echo');
  await topo.apply({ action: 'move-user', user: 'erin', pool: 'sfb2019' }); // now: forbidden
  const res = await topo.sfbUser('judy').sendIm('alice@partner.test', 'hi'); // { accepted, text, sip: the SIP response }
  expect(res).toMatchObject({ accepted: false, detail: { sip: '404' } });
  expect(res.sip.status).toBe(404);
  expect(topo.flow.since(0).length).toBeGreaterThan(5);
});

// The README's Jest matcher example, verbatim but for the test name and runtime comment.
it('a user moved to 2019 loses XMPP', async () => {
  await using topo = await SimTopology.start({
    runtime: 'auto',
    partner: { domains: ['partner.test'], users: ['alice'] },
    sfb: {
      domain: 'contoso.test',
      partnerProfile: { partnerType: 'Federated' }, // SfB's default, PublicUnverified, would hold everything
      externalAccessPolicy: { enableXmppAccess: true }, // SfB's default, False, would refuse everyone
      users: [
        { name: 'erin', pool: 'legacy' },
        { name: 'gina', pool: 'legacy' },
      ],
    },
  });
  const alice = await topo.partnerUser('alice');
  await alice.sendMessage('erin@contoso.test', 'hello');
  await expect(alice).toReceive({ from: 'erin@contoso.test', body: 'hello' }, { within: 2_000 });

  // alice does not watch gina: nothing of gina's presence reaches her.
  const mark = alice.mark();
  await topo.sfbUser('gina').setAvailability('Away');
  await expect(alice).toReceiveNothingBefore(() => topo.barrier(alice), { name: 'presence', from: 'gina@contoso.test' }, mark);

  await topo.apply({ action: 'move-user', user: 'erin', pool: 'sfb2019' });
  await alice.sendMessage('erin@contoso.test', 'still there?');
  await expect(alice).toReceive({ from: 'erin@contoso.test', type: 'error' }, { within: 2_000 });
});

// The README's example of a suite run from code with a reporter of one's own.
it('runs a suite from code with a reporter of its own', async () => {
  const lines: string[] = [];
  const mine: Reporter = {
    onCheckEnd: (check) => void lines.push(`${check.met ? 'met' : 'UNMET'} ${check.id}: ${check.actual}`),
    onEnd: (results) => void lines.push(`${results.summary.met} of ${results.summary.checks} met`),
  };
  const { suite } = await loadSuite('scenarios/smoke.yaml');
  const results = await runSuite(suite, { runtime: 'auto', reporters: [mine, ...fileReporters('xfed-results/smoke')] });
  expect(results.status).toBe('complete');
  expect(lines.at(-1)).toBe('7 of 7 met');
  expect(lines).toContain('met im-erin: pass ("echoed")');
  await rm('xfed-results/smoke', { recursive: true, force: true });
});
