import { s2sStreamFromLog } from '../prosody/s2s-log.js';
import type { RuntimeChoice, S2sSecurity } from '../prosody/types.js';
import { allowedStreamAuth, type ResolvedPartnerProfile, type StreamAuth } from '../sfb/partner-profile.js';
import { startTarget, type TargetSpec } from '../targets/index.js';
import type { TargetOptions, TargetSetup } from '../targets/target.js';
import { stanzaError, xml } from '../xmpp/client.js';

/** The partner's side of a negotiation: what its Prosody offers and accepts on S2S. */
export interface PartnerNegotiation {
  tls: S2sSecurity['tls'];
  auth: 'certificate' | 'dialback';
}

export interface MatrixRow {
  partner: PartnerNegotiation;
  /** What SfB's documented matrix predicts for the profile and this partner. */
  predicted: StreamAuth[];
  /** What happened: the authentication of the partner's stream to the Edge, or why it did not federate. */
  observed: StreamAuth | 'refused';
  detail: string;
  /** The observation is one of the predictions (or both say it cannot federate). */
  asPredicted: boolean;
}

/** Every partner setting a Prosody can be given (SASL EXTERNAL needs TLS). */
const PARTNER_NEGOTIATIONS: PartnerNegotiation[] = [
  { tls: 'required', auth: 'certificate' },
  { tls: 'optional', auth: 'certificate' },
  { tls: 'required', auth: 'dialback' },
  { tls: 'optional', auth: 'dialback' },
  { tls: 'off', auth: 'dialback' },
];

/**
 * What a partner with these settings can do on its outgoing stream. `auth` is what it accepts
 * from peers; going out, a partner with a CA-issued certificate still authenticates with SASL
 * EXTERNAL whenever TLS is up and the Edge offers it (Prosody prefers it to dialback).
 */
function partnerCan(p: PartnerNegotiation): StreamAuth[] {
  if (p.auth === 'certificate') return ['sasl-over-tls'];
  if (p.tls === 'required') return ['sasl-over-tls', 'dialback-over-tls'];
  if (p.tls === 'optional') return ['sasl-over-tls', 'dialback-over-tls', 'dialback-over-tcp'];
  return ['dialback-over-tcp'];
}

/** What a partner with these settings accepts on its incoming stream (from the Edge). */
function partnerAccepts(p: PartnerNegotiation): StreamAuth[] {
  if (p.auth === 'certificate') return ['sasl-over-tls'];
  if (p.tls === 'required') return ['dialback-over-tls'];
  if (p.tls === 'optional') return ['dialback-over-tls', 'dialback-over-tcp'];
  return ['dialback-over-tcp'];
}

/**
 * Runs the partner with each TLS / authentication setting in turn against the suite's target (the
 * simulated Edge, or a real gateway) holding the suite's partner profile, and reports how each one
 * federated beside what SfB's negotiation matrix predicts. Each row starts its own partner (and
 * simulated side), torn down before the next.
 */
export async function runNegotiationMatrix(
  suite: TargetSetup & { target: TargetSpec },
  opts: { runtime: RuntimeChoice; baseImage?: string; redactor?: TargetOptions['redactor']; onRow?: (row: MatrixRow) => void },
): Promise<{ profile: ResolvedPartnerProfile; rows: MatrixRow[] }> {
  const profile = suite.partnerProfile;
  const edgeAllows = allowedStreamAuth(profile);
  const echo = suite.echoUser;
  const { onRow, ...targetOptions } = opts;
  const rows: MatrixRow[] = [];
  for (const partner of PARTNER_NEGOTIATIONS) {
    // The documented matrix is about the partner's stream to the Edge; the way back (the Edge's
    // stream to the partner) must find a method the partner accepts too, or no answer returns.
    const back = partnerAccepts(partner).filter((a) => edgeAllows.includes(a));
    const predicted = back.length > 0 ? partnerCan(partner).filter((a) => edgeAllows.includes(a)) : [];
    // The partner keeps the TLS versions the suite gives it (one that stops at TLS 1.2, or insists on 1.3), where it speaks TLS.
    const tlsVersions = partner.tls !== 'off' ? suite.partner.s2s?.tlsVersions : undefined;
    const s2s: S2sSecurity = {
      tls: partner.tls,
      auth: partner.auth,
      certificates: 'ca',
      secureAuth: partner.auth === 'certificate',
      ...(tlsVersions ? { tlsVersions } : {}),
    };
    const topo = await startTarget({ ...suite, partner: { ...suite.partner, s2s } }, targetOptions);
    let observed: MatrixRow['observed'];
    let detail: string;
    try {
      const alice = await topo.partnerUser(suite.partner.users[0]!);
      // An IM to an echo user crosses both directions; without one, a ping of the domain does.
      const to = echo ? `${echo}@${topo.sfbDomain}` : topo.sfbDomain;
      const id = echo ? await alice.sendMessage(to, 'xfed matrix') : `matrix-${Math.random().toString(36).slice(2)}`;
      if (!echo) await alice.send(xml('iq', { type: 'get', to, id }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
      // Prosody gives up on a stream after s2s_timeout (10 s); no answer by then is a failure of
      // one direction (often the way back), which the sender never hears about.
      const answer = await alice
        .waitFor((s) => s.attrs.id === id || s.getChildText('body') === 'xfed matrix', 12_000, `an answer from ${to}`)
        .catch(() => undefined);
      if (!answer) {
        observed = 'refused';
        detail = 'no answer within 12 s: a direction of the federation did not come up';
      } else if (answer.stanza.attrs.type === 'error') {
        observed = 'refused';
        const { condition, text } = stanzaError(answer.stanza);
        detail = text ? `${condition}: ${text}` : condition;
      } else {
        const stream = await s2sStreamFromLog(topo.partnerLog, 0, { from: suite.partner.domains[0]!, to: topo.sfbDomain }, 5_000);
        observed = stream.auth === 'sasl-external' ? 'sasl-over-tls' : stream.tls ? 'dialback-over-tls' : 'dialback-over-tcp';
        detail = stream.tls ?? 'no TLS';
      }
    } finally {
      await topo.stop();
    }
    const asPredicted = observed === 'refused' ? predicted.length === 0 : predicted.includes(observed);
    const row = { partner, predicted, observed, detail, asPredicted };
    rows.push(row);
    onRow?.(row);
  }
  return { profile, rows };
}
