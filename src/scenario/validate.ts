import { PartnerConfigError, validateS2sSecurity } from '../partner/config.js';
import { DEFAULT_S2S_SECURITY } from '../partner/types.js';
import { PartnerProfileError, resolvePartnerProfile, type PartnerProfile } from '../targets/sim/mapping/partner-profile.js';
import { describePath } from './paths.js';
import type { Locate, PathKey, Position } from './positions.js';
import type { Check, CheckKind, Suite } from './schema.js';
import { didYouMean } from './suggest.js';

export interface LocatedProblem extends Position {
  message: string;
}

// Which fields of a check name a partner user, and which an SfB user (domain.md: the partner
// side speaks XMPP, the SfB side SIP; im-from-sfb goes the other way).
const PARTNER_USER_FIELDS: Partial<Record<CheckKind, string>> = {
  ping: 'from',
  disco: 'from',
  im: 'from',
  subscribe: 'from',
  'no-delivery': 'from',
  unsupported: 'from',
  presence: 'by',
  'no-presence-leak': 'by',
  'im-from-sfb': 'to',
};
const SFB_USER_FIELDS: Partial<Record<CheckKind, string>> = {
  ping: 'to',
  disco: 'to',
  im: 'to',
  subscribe: 'to',
  'no-delivery': 'to',
  unsupported: 'to',
  presence: 'of',
  'no-presence-leak': 'of',
  'im-from-sfb': 'from',
};
// ping and disco may address the SfB domain itself instead of a user.
const DOMAIN_ALLOWED = new Set<CheckKind>(['ping', 'disco']);

/** What the schema cannot see: references, duplicates, and settings SfB or xfed's partner refuse. */
export function validateSuite(suite: Suite, locate: Locate): LocatedProblem[] {
  const problems: LocatedProblem[] = [];
  const report = (path: PathKey[], message: string, part: 'key' | 'value' = 'value') => problems.push({ ...locate(path, part), message });
  const sim = suite.target.sim;

  const duplicates = (entries: [string, PathKey[]][], what: string) => {
    const first = new Map<string, PathKey[]>();
    for (const [value, path] of entries) {
      const seen = first.get(value);
      if (seen) report(path, `duplicate ${what} '${value}' (first at line ${locate(seen).line})`);
      else first.set(value, path);
    }
  };
  duplicates(
    suite.partner.domains.map((d, i) => [d, ['partner', 'domains', i]]),
    'partner domain',
  );
  duplicates(
    suite.partner.users.map((u, i) => [u, ['partner', 'users', i]]),
    'partner user',
  );
  duplicates(
    sim.users.map((u, i) => [u.name, ['target', 'sim', 'users', i, 'name']]),
    'SfB user',
  );
  duplicates(
    suite.phases.map((p, i) => [p.name, ['phases', i, 'name']]),
    'phase name',
  );
  duplicates(
    suite.phases.flatMap((p, i) => (p.checks ?? []).map((c, j): [string, PathKey[]] => [c.id, ['phases', i, 'checks', j, 'id']])),
    'check id',
  );

  const partnerUsers = suite.partner.users;
  const sfbUsers = sim.users.map((u) => u.name);
  const checkUser = (name: string, path: PathKey[], side: 'partner' | 'SfB', orDomain = false) => {
    const [known, other] = side === 'partner' ? [partnerUsers, sfbUsers] : [sfbUsers, partnerUsers];
    if (known.includes(name) || (orDomain && name === sim.domain)) return;
    const owner = describePath(suite, path.slice(0, -1));
    const wrongSide = other.includes(name) ? ` ('${name}' is ${side === 'partner' ? 'an SfB' : 'a partner'} user)` : '';
    const hint = didYouMean(name, orDomain ? [...known, sim.domain] : known) || wrongSide;
    const alt = orDomain ? ` or the SfB domain ${sim.domain}` : '';
    report(path, `unknown ${side} user '${name}' in ${owner}${hint}; ${side} users: ${known.join(', ')}${alt && `,${alt}`}`);
  };

  const bare: PartnerProfile = { domain: suite.partner.domains[0]!, additionalDomains: [...new Set(suite.partner.domains)].slice(1) };
  // After a refused profile, later steps are judged over the defaults: one defect, one report.
  let profile = checkProfile({ ...bare, ...sim.partner }, ['target', 'sim', 'partner'], report) ?? bare;

  suite.phases.forEach((phase, i) => {
    (phase.checks ?? []).forEach((check, j) => {
      const path = ['phases', i, 'checks', j];
      const field = (f: string | undefined) => (f === undefined ? undefined : (check as Check & Record<string, unknown>)[f]);
      const p = field(PARTNER_USER_FIELDS[check.kind]);
      if (typeof p === 'string') checkUser(p, [...path, PARTNER_USER_FIELDS[check.kind]!], 'partner');
      const s = field(SFB_USER_FIELDS[check.kind]);
      if (typeof s === 'string') checkUser(s, [...path, SFB_USER_FIELDS[check.kind]!], 'SfB', DOMAIN_ALLOWED.has(check.kind));
    });
    (phase.steps ?? []).forEach((step, j) => {
      const path = ['phases', i, 'steps', j];
      if ('user' in step) checkUser(step.user, [...path, 'user'], 'SfB');
      // Set-CsXmppAllowedPartner changes only what it names, over the profile in force (as
      // SimTopology applies it); after Remove- the partner comes back with the cmdlet's defaults.
      if (step.action === 'remove-partner' && (step.domain === undefined || step.domain === bare.domain)) profile = bare;
      if (step.action === 'set-partner') profile = checkProfile({ ...profile, ...step.profile }, [...path, 'profile'], report) ?? profile;
    });
  });

  if (suite.partner.domains.includes(sim.domain)) {
    report(['target', 'sim', 'domain'], `the SfB domain '${sim.domain}' is also a partner domain; the SfB side and the partner need different domains`);
  }
  const s2s = suite.partner.s2s;
  if (s2s) {
    try {
      validateS2sSecurity({ ...DEFAULT_S2S_SECURITY, ...s2s });
    } catch (err) {
      if (!(err instanceof PartnerConfigError)) throw err;
      // The message may name a default the file never set; say which defaults were in force.
      const defaults = Object.entries(DEFAULT_S2S_SECURITY).filter(([k]) => !(k in s2s));
      const note = defaults.length > 0 ? ` (defaults in force: ${defaults.map(([k, v]) => `${k} ${typeof v === 'string' ? `'${v}'` : v}`).join(', ')})` : '';
      report(['partner', 's2s'], `partner.${err.message}${note}`);
    }
  }
  return problems;
}

/** The profile if SfB would save it; otherwise reports SfB's reason at the profile. */
function checkProfile(p: PartnerProfile, path: PathKey[], report: (path: PathKey[], message: string) => void): PartnerProfile | undefined {
  try {
    resolvePartnerProfile(p);
    return p;
  } catch (err) {
    if (!(err instanceof PartnerProfileError)) throw err;
    report(path, err.message);
    return undefined;
  }
}
