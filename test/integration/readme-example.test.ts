import { expect, it } from '@jest/globals';
// The README's Jest example, kept verbatim apart from the assertions, so the README stays true.
import { Federation, XmppUser, sendIm } from 'xfed';

it('the README example federates two domains', async () => {
  const fed = await Federation.start({ runtime: 'auto' });
  try {
    const north = await fed.addPartner({ domains: ['north.test'], users: ['alice'] });
    const south = await fed.addPartner({ domains: ['south.test'], users: ['bob'] });
    const login = (p: typeof north, name: string) =>
      XmppUser.connect({ ...p.account(name), endpoint: p.c2s, trustPem: p.trustPem, available: true });
    const alice = await login(north, 'alice');
    const bob = await login(south, 'bob');
    const outcome = await sendIm(alice, bob, 'hello'); // { delivered, ms, stanza, error? }
    await Promise.all([alice.stop(), bob.stop()]);
    expect(outcome).toMatchObject({ delivered: true });
  } finally {
    await fed.stop();
  }
});
