import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { PartnerConfigError, validateS2sSecurity } from '../prosody/config.js';
import { DEFAULT_S2S_SECURITY } from '../prosody/types.js';
import { DEFAULT_EDGE_POOL, xmppAccessOf } from '../sfb/deployment.js';
import { PartnerProfileError, resolvePartnerProfile, type PartnerProfile } from '../sfb/partner-profile.js';
import { checkKindOf, type Check } from '../checks/index.js';
import { impossibleExpectation } from '../checks/expectation.js';
import type { Conflict, SuiteReference } from '../infra/format.js';
import { stepKindOf, type Step } from '../steps/index.js';
import type { LabSpec } from '../targets/lab/spec.js';
import type { SimSpec } from '../targets/sim/spec.js';
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

  // What each kind of name a step may give can be, and how it is said when it is not one of them.
  const names: Record<SuiteReference, { known: string[]; noun: string; plural: string } | undefined> = {
    'sfb-user': undefined,
    'partner-user': undefined,
    'partner-domain': { known: suite.partner.domains, noun: 'partner domain', plural: 'partner domains' },
    'sip-domain': { known: [target.domain, ...(sim?.additionalDomains ?? [])], noun: 'SIP domain', plural: 'SIP domains' },
    // Only the simulation has Edge pools; a gateway suite refuses the steps that name them.
    'edge-pool': sim ? { known: (sim.edgePools ?? [DEFAULT_EDGE_POOL]).map((p) => p.name), noun: 'Edge pool', plural: 'Edge pools' } : undefined,
  };
  const checkName = (ref: SuiteReference, value: string, path: PathKey[]) => {
    if (ref === 'sfb-user' || ref === 'partner-user') return checkUser(value, path, ref === 'sfb-user' ? 'SfB' : 'partner');
    const set = names[ref];
    if (!set || set.known.some((k) => k.toLowerCase() === value.toLowerCase())) return;
    report(
      path,
      `unknown ${set.noun} '${value}' in ${describePath(suite, path.slice(0, -1))}${didYouMean(value, set.known)}; ${set.plural}: ${set.known.join(', ')}`,
    );
  };
  // Each kind declares its impossible combinations; an entry gets one report per field.
  const conflicts = (entry: Check | Step, path: PathKey[], declared: readonly Conflict<never>[], who = ''): Set<string> => {
    const hit = new Set<string>();
    for (const c of declared) {
      const why = c.why(entry as never);
      if (why === undefined || hit.has(c.at)) continue;
      hit.add(c.at);
      report([...path, c.at], `${who}${why}`);
    }
    return hit;
  };

  const bare: PartnerProfile = { domain: suite.partner.domains[0]!, additionalDomains: [...new Set(suite.partner.domains)].slice(1) };
  // After a refused profile, later steps are judged over the defaults: one defect, one report.
  let profile = checkProfile({ ...bare, ...target.partner }, target.partner ?? {}, ['target', targetKey, 'partner'], report) ?? bare;

  suite.phases.forEach((phase, i) => {
    (phase.checks ?? []).forEach((check, j) => {
      const path = ['phases', i, 'checks', j];
      // Each kind says which of its fields name a partner user (XMPP side) and an SfB user (SIP
      // side); im-from-sfb goes the other way (docs/sfb-xmpp-federation.md section 7).
      const kind = checkKindOf(check);
      const { users } = kind;
      const field = (f: string | undefined) => (f === undefined ? undefined : fieldOf(check, f));
      conflicts(check, path, kind.conflicts, `check '${check.id}': `);
      if (check.expect !== undefined && kind.failures !== undefined) {
        const impossible = impossibleExpectation(check.expect, kind.failures, (f) => field(f) !== undefined, check.kind);
        if (impossible) report([...path, 'expect', impossible.key], `check '${check.id}' ${impossible.message}`, impossible.part);
      }
      const p = field(users.partner);
      if (typeof p === 'string') checkUser(p, [...path, users.partner!], 'partner');
      const s = field(users.sfb);
      if (typeof s === 'string') checkUser(s, [...path, users.sfb!], 'SfB', users.sfbMayBeDomain === true);
    });
    (phase.steps ?? []).forEach((step, j) => {
      const path = ['phases', i, 'steps', j];
      const kind = stepKindOf(step);
      const conflicted = conflicts(step, path, kind.conflicts);
      for (const [f, ref] of Object.entries(kind.names)) {
        const value = fieldOf(step, f);
        if (typeof value === 'string' && !conflicted.has(f)) checkName(ref, value, [...path, f]);
      }
      // Set-CsXmppAllowedPartner changes only what it names, over the profile in force (as
      // SimTopology applies it); after Remove- the partner comes back with the cmdlet's defaults.
      if (step.action === 'remove-partner' && (step.domain === undefined || step.domain === bare.domain)) profile = bare;
      if (step.action === 'set-partner') profile = checkProfile({ ...profile, ...step.profile }, step.profile, [...path, 'profile'], report) ?? profile;
    });
  });

  if (sim) validateXmppAccess(suite, sim, locate, report);
  if (sim) validatePoolsAndDomains(suite, sim, report);
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
      report(['partner', 's2s', ...keyNamed(err.message, s2s)], `partner.${err.message}${note}`);
    }
  }
  return problems;
}

/**
 * The legacy Edge pools and SIP domains: each pool's SRV record a different priority ("Failing
 * over the Edge pool used for XMPP federation": "Each of these SRV records must have a different
 * priority set"), users in a domain of the deployment. Steps naming pools and domains are checked
 * with every other name a step gives (each step kind's `names`).
 */
function validatePoolsAndDomains(suite: Suite, sim: SimSpec, report: (path: PathKey[], message: string) => void): void {
  const domains = [sim.domain, ...(sim.additionalDomains ?? [])].map((d) => d.toLowerCase());
  const pools = (sim.edgePools ?? [DEFAULT_EDGE_POOL]).map((p) => p.name);
  const priorities = new Map<number, string>();
  (sim.additionalDomains ?? []).forEach((d, i) => {
    const path = ['target', 'sim', 'additionalDomains', i];
    if (domains.indexOf(d.toLowerCase()) !== i + 1) report(path, `duplicate SIP domain '${d}'`);
    else if (suite.partner.domains.includes(d))
      report(path, `the SIP domain '${d}' is also a partner domain; the SfB side and the partner need different domains`);
  });
  (sim.edgePools ?? []).forEach((p, i) => {
    const path = ['target', 'sim', 'edgePools', i];
    if (pools.indexOf(p.name) !== i) report([...path, 'name'], `duplicate Edge pool '${p.name}'`);
    if (p.priority === undefined) return;
    const other = priorities.get(p.priority);
    if (other)
      report(
        [...path, 'priority'],
        `Edge pools ${other} and ${p.name} have the same SRV priority ${p.priority}; each pool's record needs a different priority`,
      );
    priorities.set(p.priority, p.name);
  });
  const knownDomain = (d: string, path: PathKey[], what: string) => {
    if (!domains.includes(d.toLowerCase()))
      report(path, `${what} '${d}' is not a SIP domain of the deployment${didYouMean(d, domains)}; SIP domains: ${domains.join(', ')}`);
  };
  sim.users.forEach((u, i) => {
    if (u.domain !== undefined) knownDomain(u.domain, ['target', 'sim', 'users', i, 'domain'], `${u.name}'s domain`);
  });
}

/** The profile if SfB would save it; otherwise reports SfB's reason at the key of `written` it names. */
function checkProfile(p: PartnerProfile, written: object, path: PathKey[], report: (path: PathKey[], message: string) => void): PartnerProfile | undefined {
  try {
    resolvePartnerProfile(p);
    return p;
  } catch (err) {
    if (!(err instanceof PartnerProfileError)) throw err;
    report([...path, ...keyNamed(err.message, written)], err.message);
    return undefined;
  }
}

/**
 * The key of a mapping the file wrote that a message about a combination names first (`-TlsNegotiation`
 * for `tlsNegotiation`, `s2s.auth` for `auth`): the reader is sent to a key he can change, not to
 * the start of the mapping. None when the message names no written key (a default is at fault).
 */
function keyNamed(message: string, written: object): [string] | [] {
  const lower = message.toLowerCase();
  let best: [number, string] | undefined;
  for (const key of Object.keys(written)) {
    const at = lower.search(new RegExp(`(^|[^a-z])${key.toLowerCase()}($|[^a-z])`));
    if (at >= 0 && (best === undefined || at < best[0])) best = [at, key];
  }
  return best ? [best[1]] : [];
}

/**
 * A check that expects to pass against a simulated SfB user without EnableXmppAccess cannot pass:
 * the pool refuses him, and nobody has it unless granted (its default is False). A check that
 * expects the failure, or whose pass means nothing crossed, is left alone. Each user's policy is
 * followed through the set-policy steps, which run before their phase's checks.
 */
function validateXmppAccess(suite: Suite, sim: SimSpec, locate: Locate, report: (path: PathKey[], message: string) => void): void {
  const global = sim.externalAccessPolicy;
  const why = new Map<string, string | undefined>();
  sim.users.forEach((u, i) => {
    // A duplicate name is reported above; the first definition stands.
    if (why.has(u.name)) return;
    if (xmppAccessOf(u, global)) why.set(u.name, undefined);
    else if (u.xmppAccess === false) why.set(u.name, `has xmppAccess: false (line ${locate(['target', 'sim', 'users', i, 'xmppAccess']).line})`);
    else if (global) why.set(u.name, 'follows the global externalAccessPolicy, whose enableXmppAccess is false');
    else why.set(u.name, 'has no EnableXmppAccess (its default is False)');
  });
  suite.phases.forEach((phase, i) => {
    (phase.steps ?? []).forEach((step, j) => {
      if (step.action !== 'set-policy' || !why.has(step.user)) return;
      why.set(step.user, step.xmppAccess ? undefined : `has no EnableXmppAccess since the set-policy step at line ${locate(['phases', i, 'steps', j]).line}`);
    });
    (phase.checks ?? []).forEach((check, j) => {
      const kind = checkKindOf(check);
      const field = kind.users.sfb;
      const name = field === undefined ? undefined : fieldOf(check, field);
      if (typeof name !== 'string' || kind.users.sfbPassNeedsXmpp === false || (check.expect ?? kind.defaultExpectation) !== 'pass') return;
      const reason = why.get(name);
      if (reason === undefined) return;
      report(
        ['phases', i, 'checks', j, field!],
        `SfB user ${name} ${reason}, so this ${check.kind} check cannot pass: grant it (xmppAccess: true, or target.sim.externalAccessPolicy) or expect the failure`,
      );
    });
  });
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
