import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { PartnerConfigError, validateS2sSecurity } from '../prosody/config.js';
import { DEFAULT_S2S_SECURITY } from '../prosody/types.js';
import { PartnerProfileError, resolvePartnerProfile, type PartnerProfile } from '../sfb/partner-profile.js';
import { checkKindOf } from '../checks/index.js';
import { stepKindOf } from '../steps/index.js';
import type { LabSpec } from '../targets/lab/spec.js';
import { describePath } from './paths.js';
import type { Locate, PathKey, Position } from './positions.js';
import type { Suite } from './schema.js';
import { didYouMean } from './suggest.js';

export interface LocatedProblem extends Position {
  message: string;
}

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
      // Each kind says which of its fields name a partner user (XMPP side) and an SfB user (SIP
      // side); im-from-sfb goes the other way (docs/sfb-xmpp-federation.md section 7).
      const { users } = checkKindOf(check);
      const field = (f: string | undefined) => (f === undefined ? undefined : fieldOf(check, f));
      const p = field(users.partner);
      if (typeof p === 'string') checkUser(p, [...path, users.partner!], 'partner');
      const s = field(users.sfb);
      if (typeof s === 'string') checkUser(s, [...path, users.sfb!], 'SfB', users.sfbMayBeDomain === true);
    });
    (phase.steps ?? []).forEach((step, j) => {
      const path = ['phases', i, 'steps', j];
      const userField = stepKindOf(step).sfbUserField;
      const user = userField === undefined ? undefined : fieldOf(step, userField);
      if (typeof user === 'string') checkUser(user, [...path, userField!], 'SfB');
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

/** A field of a parsed check or step, by the name its kind gives. */
const fieldOf = (entry: object, field: string): unknown => (Object.hasOwn(entry, field) ? (entry as Record<string, unknown>)[field] : undefined);

/**
 * What a real gateway target can do: xfed changes nothing on the SfB side (the simulation's steps
 * are refused), its users act only where xfed drives them (login) or where their role makes an
 * outcome visible (an echo), and its files must be there.
 */
function validateGateway(suite: Suite, gateway: LabSpec, report: (path: PathKey[], message: string, part?: 'key' | 'value') => void, baseDir?: string): void {
  const users = new Map(gateway.users.map((u) => [u.name, u]));
  const driven = (name: string) => users.get(name)?.login !== undefined;
  const why = (name: string, doing: string) => `${doing}, so xfed must act as ${name}: give ${name} a login in target.gateway.users`;
  suite.phases.forEach((phase, i) => {
    (phase.steps ?? []).forEach((step, j) => {
      const path = ['phases', i, 'steps', j];
      const kind = stepKindOf(step);
      if (kind.appliesTo === 'sim') {
        report(
          [...path, 'action'],
          `the ${step.action} step changes the simulated side; against a real gateway do it on the lab and put a manual or run step here`,
        );
      } else if (kind.sfbUserField !== undefined) {
        const user = fieldOf(step, kind.sfbUserField);
        const acts = kind.sfbUserActs(step);
        if (acts && typeof user === 'string' && users.has(user) && !driven(user)) report([...path, kind.sfbUserField], why(user, acts));
      }
    });
    (phase.checks ?? []).forEach((check, j) => {
      const path = ['phases', i, 'checks', j];
      const kind = checkKindOf(check);
      const field = kind.users.sfb;
      const name = field === undefined ? undefined : fieldOf(check, field);
      const need = kind.sfbUserNeeds(check);
      if (typeof name !== 'string' || !need || !users.has(name) || driven(name)) return;
      if ('acts' in need) report([...path, field!], why(name, need.acts));
      else if (users.get(name)?.role !== 'echo') {
        report(
          [...path, field!],
          `xfed sees an IM reach ${name} only through an echo or as ${name}: give ${name} role echo, or a login in target.gateway.users`,
        );
      }
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
