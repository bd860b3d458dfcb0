import type { SimTopologyOptions } from '../../src/targets/sim/sim-topology.js';
import type { RuntimeKind } from '../../src/prosody/types.js';
import type { PartnerProfile } from '../../src/sfb/partner-profile.js';
import { stanza, stanzaError, type Element, type XmppUser } from '../../src/xmpp/client.js';

export const PARTNER = 'partner.test';
const SFB = 'contoso.test';

/**
 * The cast of the simulated deployment used by the sim tests: one SfB user per behaviour and
 * state, so that each test names the case it covers. The global external access policy grants
 * EnableXmppAccess (its default is False); kim's own policy withholds it.
 */
export function cast(
  kind: RuntimeKind,
  profile: Partial<PartnerProfile> = { partnerType: 'Federated' },
  extra: Partial<SimTopologyOptions['sfb']> = {},
): SimTopologyOptions {
  return {
    runtime: kind,
    partner: { domains: [PARTNER], users: ['alice', 'bob', 'carol', 'dave', 'o\\27hara'] },
    sfb: {
      domain: SFB,
      partnerProfile: profile,
      externalAccessPolicy: { enableXmppAccess: true },
      users: [
        { name: 'erin', pool: 'legacy', behaviour: 'echo' },
        { name: 'frank', pool: 'legacy', behaviour: 'accept', availability: 'Busy', note: 'In a meeting' },
        { name: 'gina', pool: 'legacy', behaviour: 'silent' },
        { name: 'hugo', pool: 'legacy', behaviour: 'reject' },
        { name: 'ivan', pool: 'legacy', behaviour: 'offline' },
        { name: 'judy', pool: 'sfb2019', behaviour: 'echo' },
        { name: 'kim', pool: 'legacy', behaviour: 'echo', xmppAccess: false },
        { name: 'josé', pool: 'legacy', behaviour: 'echo' },
        { name: 'first last', pool: 'legacy', behaviour: 'echo' },
        { name: 'leo', pool: 'legacy', behaviour: 'accept' },
        { name: 'mia', pool: 'legacy', behaviour: 'echo' },
        { name: 'nora', pool: 'legacy', behaviour: 'accept' },
      ],
      ...extra,
    },
  };
}

export const at = (name: string) => `${name}@${SFB}`;

/** The stanza error (condition and text) a partner user got for the stanza with `id`. */
export async function errorFor(
  user: XmppUser,
  id: string,
  timeoutMs = 5_000,
): Promise<{ condition: string | undefined; text: string | undefined; stanza: Element }> {
  const r = await user.waitFor((s) => s.attrs.type === 'error' && s.attrs.id === id, timeoutMs, `an error for ${id}`);
  const { condition, text } = stanzaError(r.stanza);
  return { condition, text, stanza: r.stanza };
}

/**
 * Proves that nothing matching `unwanted` reached `user` before a barrier: an IM to the echo user
 * through the same path, whose echo comes back after anything sent earlier. `mark` is
 * `user.mark()` taken before the action under test.
 */
export async function nothingBeforeBarrier(user: XmppUser, mark: number, unwanted: (s: Element) => boolean, timeoutMs = 5_000): Promise<Element[]> {
  const marker = `barrier-${Math.random().toString(36).slice(2)}`;
  await user.sendMessage(at('erin'), marker);
  await user.waitFor((s) => stanza.message(at('erin'))(s) && s.getChildText('body') === marker, timeoutMs, 'the barrier echo');
  return user
    .received(mark)
    .map((r) => r.stanza)
    .filter(unwanted);
}

/** What became of a partner user's IM to an SfB echo user: delivered (the echo came back) or the stanza error. */
export type ImEchoResult = { delivered: true } | { delivered: false; condition?: string; text?: string };

/**
 * An IM from a partner user to an SfB echo user, waited for (bounded): the echo or the error.
 * `logs`, where given, goes into the message of a missing answer: what the servers said is its diagnosis.
 */
export async function imEcho(user: XmppUser, to: string, logs?: () => { partner: string[]; edge: string[] }): Promise<ImEchoResult> {
  const body = `probe ${Math.random().toString(36).slice(2)}`;
  const id = await user.sendMessage(to, body);
  const r = await user
    .waitFor(
      (s) => (s.attrs.type === 'error' && s.attrs.id === id) || (stanza.message(to)(s) && s.getChildText('body') === body),
      15_000,
      `the echo of ${to} or an error`,
    )
    .catch((err: Error) => {
      if (!logs) throw err;
      const { partner, edge } = logs();
      throw new Error(`${err.message}\npartner log:\n${partner.slice(-15).join('\n')}\nedge log:\n${edge.slice(-15).join('\n')}`);
    });
  if (r.stanza.attrs.type !== 'error') return { delivered: true };
  const { condition, text } = stanzaError(r.stanza);
  return { delivered: false, ...(condition ? { condition } : {}), ...(text ? { text } : {}) };
}
