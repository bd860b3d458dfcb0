import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError, XfedError } from '../errors.js';
import { withDeadline } from '../infra/deadline.js';
import { Redactor } from '../infra/redact.js';
import { onSignal, signalReceived } from '../infra/signals.js';
import { TeardownStack } from '../infra/teardown.js';
import { workDirFor } from '../infra/work-dir.js';
import type { PartnerServer } from '../partner/partner-server.js';
import type { RuntimeChoice, SetupProgress } from '../prosody/types.js';
import { loadSuite, type VariableSources } from '../scenario/loader.js';
import type { ResolvedSuite } from '../scenario/resolve.js';
import { startTarget, type SuiteTarget } from '../targets/index.js';
import type { SimTopology } from '../targets/sim/sim-topology.js';
import type { SipUserEvent } from '../targets/sim/pool/user-event.js';
import type { EngineEvents, LoadEngine } from './engine.js';
import { checkOpenFiles } from './limits.js';
import { planLoad } from './plan.js';
import type { LoadPlan, LoadProfile } from './profile.js';
import { LOAD_FORMAT, type EngineResult, type LoadResults } from './results.js';
import { Latencies, RATE_TOLERANCE } from './stats.js';

/** On Ctrl-C, how long the run may take to collect what the engine measured before the results are written without it. */
const RESULTS_TIMEOUT_MS = 20_000;

export interface LoadTargetOptions extends VariableSources {
  runtime: RuntimeChoice;
  baseImage?: string;
  /** The simulation's SfB echo users (default min(users, 50)); a lab's are its users of role echo. */
  sfbUsers?: number;
  /** Something the target says outside the load (a lab user's session dropped). */
  notice?: (text: string) => void;
  /** Told while setup does something slow (the first build of the Prosody image). */
  progress?: (p: SetupProgress) => void;
}

/**
 * A started target with the load's accounts, domains and contacts, for one or more runs: the
 * benchmark runs several engines and rates against the same Prosody pair.
 */
export interface LoadSession {
  /** The suite as started: its partner and SfB side grown for the load. */
  readonly suite: ResolvedSuite;
  readonly target: SuiteTarget;
  /** Every user the session was opened for; a run takes the first `profile.users` of them on its first `profile.domains` domains. */
  readonly plan: LoadPlan;
  /**
   * One run of `engine` with `profile` (its users and domains at most the session's). The restart
   * under load is done here, whatever `events.restart` says; the one-way time is measured here
   * (the simulation). Aborting `signal` ends the run early, and it still returns what it measured.
   */
  run(profile: LoadProfile, engine: LoadEngine, events: EngineEvents, signal: AbortSignal): Promise<LoadResults>;
  close(): Promise<void>;
}

/**
 * Reads the suite, checks the open files limit for its users, and starts its target with the
 * load's accounts (partner users `load-00001`... on `setupProfile.domains` domains) and contacts.
 * Bad input is an `XfedError` (one line, exit 2) before anything starts.
 */
export async function openLoadTarget(
  suitePath: string,
  setupProfile: Pick<LoadProfile, 'users' | 'domains' | 'restart'>,
  opts: LoadTargetOptions,
): Promise<LoadSession> {
  const { suite } = await loadSuite(suitePath, opts);
  if (setupProfile.restart && suite.target.kind !== 'sim') throw cannotRestart(setupProfile.restart.what);
  checkOpenFiles(setupProfile.users);
  const setup = planLoad(suite, setupProfile, opts.sfbUsers !== undefined ? { sfbUsers: opts.sfbUsers } : {});
  return TeardownStack.start(`load ${suite.name}`, async (stack) => {
    const redactor = new Redactor();
    const target = await startTarget(setup.suite, {
      runtime: opts.runtime,
      ...(opts.baseImage !== undefined ? { baseImage: opts.baseImage } : {}),
      redactor,
      ...(opts.notice ? { notice: opts.notice } : {}),
      ...(opts.progress ? { progress: opts.progress } : {}),
    });
    stack.defer('the target', () => target.stop());
    const partner = partnerOf(target);
    const workDir = await workDirFor(stack, 'load');
    const plan: LoadPlan = {
      profile: { ...defaultProfile(), users: setupProfile.users, domains: setupProfile.domains },
      c2s: { host: partner.c2s.host, port: partner.c2s.port },
      trustPem: partner.trustPem,
      trustPath: partner.trustPath,
      domains: setup.domains,
      users: setup.users.map((u) => ({ jid: u.jid, password: partner.account(u.jid).password, contact: u.contact })),
      contacts: setup.contacts,
      workDir,
    };
    return new Session(setup.suite, target, plan, stack);
  });
}

class Session implements LoadSession {
  constructor(
    readonly suite: ResolvedSuite,
    readonly target: SuiteTarget,
    readonly plan: LoadPlan,
    private readonly stack: TeardownStack,
  ) {}

  async run(profile: LoadProfile, engine: LoadEngine, events: EngineEvents, signal: AbortSignal): Promise<LoadResults> {
    const { target } = this;
    if (profile.domains > this.plan.domains.length || profile.users > this.plan.users.length)
      throw new XfedError(`a run of ${profile.users} users on ${profile.domains} domains needs a target opened for at least as many`);
    if (profile.restart && target.kind !== 'sim') throw cannotRestart(profile.restart.what);
    const domains = new Set(this.plan.domains.slice(0, profile.domains));
    const users = this.plan.users.filter((u) => domains.has(u.jid.split('@')[1]!)).slice(0, profile.users);
    if (users.length < profile.users)
      throw new XfedError(
        `a run of ${profile.users} users on ${profile.domains} domains needs a target opened with at least as many on those domains (it has ${users.length})`,
      );
    const plan: LoadPlan = { ...this.plan, profile, users, domains: [...domains], contacts: [...new Set(users.map((u) => u.contact))] };

    const oneWay = target.kind === 'sim' ? new Latencies() : undefined;
    const sim = target.kind === 'sim' ? (target as SimTopology) : undefined;
    const onSipEvent = (e: SipUserEvent) => {
      if (e.kind !== 'im' || !e.body || !oneWay) return;
      const due = engine.stampOf(e.body);
      if (due !== undefined) oneWay.record(e.at - due);
    };
    sim?.pools.legacy.on('user-event', onSipEvent);
    const startedAt = new Date().toISOString();
    let result: EngineResult;
    try {
      result = await engine.run(
        plan,
        {
          ...events,
          restart: async (what) => {
            await restart(target, what);
            // The flow keeps what checks take as evidence; a load run takes none, so its memory stays flat.
            target.flow.forget();
          },
        },
        signal,
      );
    } finally {
      sim?.pools.legacy.off('user-event', onSipEvent);
    }
    target.flow.forget();
    const interrupted = signalReceived() ?? (signal.aborted ? 'the run was stopped' : undefined);
    return {
      format: LOAD_FORMAT,
      suite: this.suite.name,
      target: target.kind,
      runtime: target.runtime,
      profile,
      startedAt,
      endedAt: new Date().toISOString(),
      engine: result,
      ...(oneWay && oneWay.count > 0 ? { oneWay: oneWay.stats() } : {}),
      verdict: verdictOf(profile, result, interrupted),
    };
  }

  close(): Promise<void> {
    return this.stack.close();
  }
}

function cannotRestart(what: 'edge' | 'gateway'): InputError {
  return new InputError(
    `--restart ${what}: xfed cannot restart a lab's ${what === 'edge' ? 'Edge' : 'gateway'}; restart it by hand during a run without --restart, or rehearse the storm against the simulation`,
  );
}

async function restart(target: SuiteTarget, what: 'edge' | 'gateway'): Promise<void> {
  const deployment = target.deployment;
  if (!deployment) throw cannotRestart(what);
  if (what === 'edge') await deployment.injectFault('restart-edge');
  else await deployment.setGateway('restarted');
}

/** Both targets run the partner Prosody xfed started; its accounts hold the load users' passwords. */
function partnerOf(target: SuiteTarget): PartnerServer {
  const partner = (target as SuiteTarget & { partner?: PartnerServer }).partner;
  if (!partner) throw new Error(`the ${target.kind} target has no partner server`);
  return partner;
}

function defaultProfile(): LoadProfile {
  return { users: 1, domains: 1, rate: 1, durationMs: 1000, rampMs: 1000, presenceChurn: 0, subscribe: true, graceMs: 5000 };
}

/** Held: every user logged in (and subscribed), nothing lost, no errors, the rate reached, every subscription back after a restart. */
export function verdictOf(profile: LoadProfile, r: EngineResult, interrupted?: string): LoadResults['verdict'] {
  const reasons: string[] = [];
  if (interrupted) reasons.push(`interrupted (${interrupted})`);
  const notIn = profile.users - r.logins.succeeded;
  if (notIn > 0) reasons.push(`${notIn} of ${profile.users} users did not log in${counts(r.logins.failed)}`);
  if (r.subscriptions && r.subscriptions.succeeded < r.subscriptions.attempted)
    reasons.push(
      `${r.subscriptions.attempted - r.subscriptions.succeeded} of ${r.subscriptions.attempted} subscriptions were not accepted${counts(r.subscriptions.failed)}`,
    );
  const m = r.messages;
  if (m.lost > 0) reasons.push(`${m.lost} of ${m.sent} IMs lost (no echo within the grace time)`);
  const errors = Object.values(m.errors).reduce((a, b) => a + b, 0);
  if (errors > 0) reasons.push(`${errors} IM${errors === 1 ? '' : 's'} answered with an error${counts(m.errors)}`);
  if (m.rateTarget > 0 && m.rateAchieved < m.rateTarget * RATE_TOLERANCE)
    reasons.push(`the rate reached was ${m.rateAchieved}/s of the ${m.rateTarget}/s asked`);
  if (r.presence.errors > 0) reasons.push(`${r.presence.errors} presence errors`);
  if (r.storm && r.storm.back < r.storm.subscriptions)
    reasons.push(
      `${r.storm.subscriptions - r.storm.back} of ${r.storm.subscriptions} subscriptions did not get the contact's presence back after the ${r.storm.what} restart`,
    );
  return { held: reasons.length === 0, reasons };
}

function counts(c: Readonly<Record<string, number>>): string {
  const entries = Object.entries(c);
  return entries.length ? ` (${entries.map(([k, n]) => `${k}: ${n}`).join(', ')})` : '';
}

export interface LoadRunOptions extends LoadTargetOptions {
  /** `xfed` (default): xfed's own generator; `tsung`: Tsung's controller and client nodes. */
  engine?: 'xfed' | 'tsung';
  /** Tsung's client nodes (the `tsung` engine); default this machine. */
  tsungHosts?: string[];
  /** Where load.json goes (default xfed-results/load-<suite>-<time>/). */
  out?: string;
  events?: EngineEvents;
  /** Told the results once they are written (also after Ctrl-C): the summary, the HTML report. */
  onResults?: (results: LoadResults, out: string) => Promise<void> | void;
}

/** Where a load run's files go unless told: beside the other commands' results. */
function defaultLoadOut(suite: string): string {
  return path.join('xfed-results', `load-${suite}-${new Date().toISOString().replace(/[:.]/g, '-').replace('Z', '')}`);
}

/**
 * `xfed load`: opens the target for the profile, runs the engine once, writes `load.json` into
 * `out`, and tears everything down, on every path: on Ctrl-C the engine stops, reports what it
 * measured, and the results are still written.
 */
export async function runLoad(suitePath: string, profile: LoadProfile, opts: LoadRunOptions): Promise<{ results: LoadResults; out: string }> {
  const engine = await engineNamed(opts.engine ?? 'xfed', opts.tsungHosts);
  const stop = new AbortController();
  const unlisten = onSignal(() => stop.abort());
  // Created first, so a signal's teardown writes the results after the target and the engine are gone.
  const stack = new TeardownStack('load results');
  let out: string | undefined;
  let running: Promise<LoadResults> | undefined;
  let written: Promise<LoadResults | undefined> | undefined;
  const write = () =>
    (written ??= (async () => {
      if (!running || !out) return undefined;
      const results = await withDeadline(running, RESULTS_TIMEOUT_MS, 'the load results').catch(() => undefined);
      if (!results) return undefined;
      await mkdir(out, { recursive: true });
      await writeFile(path.join(out, 'load.json'), `${JSON.stringify(results, null, 2)}\n`);
      await opts.onResults?.(results, out);
      return results;
    })());
  stack.defer('the load results', async () => void (await write()));
  try {
    const session = await openLoadTarget(suitePath, profile, opts);
    try {
      out = opts.out ?? defaultLoadOut(session.suite.name);
      running = session.run(profile, engine, opts.events ?? {}, stop.signal);
      await running;
    } finally {
      await session.close();
    }
    const results = await write();
    if (!results) throw new XfedError('the load run produced no results');
    return { results, out };
  } finally {
    unlisten();
    await stack.close();
  }
}

/** The engine a run names; Tsung's is loaded only when asked for. */
async function engineNamed(name: 'xfed' | 'tsung', hosts: string[] | undefined): Promise<LoadEngine> {
  if (name === 'tsung') {
    const { tsungEngine } = await import('./tsung/engine.js');
    return tsungEngine(hosts ? { hosts } : {});
  }
  const { xfedEngine } = await import('./xfed-engine/index.js');
  return xfedEngine();
}
