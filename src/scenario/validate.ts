import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { PartnerConfigError, validateS2sSecurity } from '../prosody/config.js';
import { DEFAULT_S2S_SECURITY } from '../prosody/types.js';
import { PartnerProfileError, resolvePartnerProfile, type PartnerProfile } from '../sfb/partner-profile.js';
import { describePath } from './paths.js';
import type { Locate, PathKey, Position } from './positions.js';
import type { Check, CheckKind, GatewayTargetSpec, Suite } from './schema.js';
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
export function validateSuite(suite: Suite, locate: Locate, baseDir?: string): LocatedProblem[] {
  const problems: LocatedProblem[] = [];
  const report = (path: PathKey[], message: string, part: 'key' | 'value' = 'value') => problems.push({ ...locate(path, part), message });
  const { sim, gateway } = suite.target;
  if (sim && gateway) {
    report(['target', 'gateway'], 'a suite has one target: sim (the simulated legacy side) or gateway (a real legacy Edge), not both', 'key');
    return problems;
  }
  const target = sim ?? gateway;
  if (!target) {
    report(['target'], 'the target needs sim (the simulated legacy side) or gateway (a real legacy Edge)', 'key');
    return problems;
  }
  const targetKey = sim ? 'sim' : 'gateway';

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
    target.users.map((u, i) => [u.name, ['target', targetKey, 'users', i, 'name']]),
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
  const sfbUsers = target.users.map((u) => u.name);
  const checkUser = (name: string, path: PathKey[], side: 'partner' | 'SfB', orDomain = false) => {
    const [known, other] = side === 'partner' ? [partnerUsers, sfbUsers] : [sfbUsers, partnerUsers];
    if (known.includes(name) || (orDomain && name === target.domain)) return;
    const owner = describePath(suite, path.slice(0, -1));
    const wrongSide = other.includes(name) ? ` ('${name}' is ${side === 'partner' ? 'an SfB' : 'a partner'} user)` : '';
    const hint = didYouMean(name, orDomain ? [...known, target.domain] : known) || wrongSide;
    const alt = orDomain ? ` or the SfB domain ${target.domain}` : '';
    report(path, `unknown ${side} user '${name}' in ${owner}${hint}; ${side} users: ${known.join(', ')}${alt && `,${alt}`}`);
  };

  const bare: PartnerProfile = { domain: suite.partner.domains[0]!, additionalDomains: [...new Set(suite.partner.domains)].slice(1) };
  // After a refused profile, later steps are judged over the defaults: one defect, one report.
  let profile = checkProfile({ ...bare, ...target.partner }, ['target', targetKey, 'partner'], report) ?? bare;

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

  if (gateway) validateGateway(suite, gateway, report, baseDir);

  if (suite.partner.domains.includes(target.domain)) {
    report(['target', targetKey, 'domain'], `the SfB domain '${target.domain}' is also a partner domain; the SfB side and the partner need different domains`);
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

// Against a real Edge, xfed changes nothing on the SfB side: these steps are the simulation's.
const SIM_ONLY_STEPS = new Set(['move-user', 'set-policy', 'replace-edge', 'srv-record', 'renew-certificate', 'remove-partner', 'set-partner', 'gateway', 'network']);

/**
 * What a real gateway target can do: its users act only where xfed drives them (login) or where
 * their role makes an outcome visible (an echo), and its files must be there.
 */
function validateGateway(suite: Suite, gateway: GatewayTargetSpec, report: (path: PathKey[], message: string, part?: 'key' | 'value') => void, baseDir?: string): void {
  const users = new Map(gateway.users.map((u) => [u.name, u]));
  const driven = (name: string) => users.get(name)?.login !== undefined;
  const why = (name: string, doing: string) => `${doing}, so xfed must act as ${name}: give ${name} a login in target.gateway.users`;
  suite.phases.forEach((phase, i) => {
    (phase.steps ?? []).forEach((step, j) => {
      const path = ['phases', i, 'steps', j];
      if (SIM_ONLY_STEPS.has(step.action)) {
        report([...path, 'action'], `the ${step.action} step changes the simulated side; against a real gateway do it on the lab and put a manual or run step here`);
      } else if (step.action === 'set-availability' && users.has(step.user) && !driven(step.user)) {
        report([...path, 'user'], why(step.user, `${step.user} sets an availability`));
      }
    });
    (phase.checks ?? []).forEach((check, j) => {
      const path = ['phases', i, 'checks', j];
      const need = (field: string, name: string, what: string) => users.has(name) && !driven(name) && report([...path, field], why(name, what));
      if ((check.kind === 'im' || check.kind === 'no-delivery') && users.get(check.to)?.role !== 'echo') {
        if (users.has(check.to) && !driven(check.to)) {
          report([...path, 'to'], `xfed sees an IM reach ${check.to} only through an echo or as ${check.to}: give ${check.to} role echo, or a login in target.gateway.users`);
        }
      }
      if (check.kind === 'im-from-sfb') need('from', check.from, `${check.from} writes first`);
      if (check.kind === 'presence' && check.set) need('of', check.of, `${check.of} sets ${check.set}`);
      if (check.kind === 'no-presence-leak') need('of', check.of, `${check.of} publishes a presence`);
    });
  });
  const files: Array<[PathKey[], string | undefined]> = [
    [['target', 'gateway', 'ca'], gateway.ca],
    [['target', 'gateway', 'certificate', 'cert'], gateway.certificate?.cert],
    [['target', 'gateway', 'certificate', 'key'], gateway.certificate?.key],
  ];
  for (const [path, file] of files) {
    if (file === undefined || baseDir === undefined) continue;
    const full = resolvePath(baseDir, file);
    if (!existsSync(full)) report(path, `no such file ${file} (names are relative to the suite file)`);
  }
}
