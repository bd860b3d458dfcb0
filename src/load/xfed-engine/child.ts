/**
 * xfed's load generator, run as a child process of xfed (parent.ts forks it): its CPU and memory
 * are its own. It logs the plan's users in at the arrival rate, subscribes each to his SfB contact,
 * sends IMs on the open model's schedule, changes presence, asks xfed for the restart under load,
 * and reports each second and, at the end, what it measured. It exits when xfed's IPC channel closes.
 */
import type { Client } from '@xmpp/client';
import xml, { type Element } from '@xmpp/xml';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { withDeadline } from '../../infra/deadline.js';
import { dropDataAfterClose } from '../../xmpp/bounded-transport.js';
import { STANZAS_NS } from '../../xmpp/stanza-errors.js';
import type { LoadPlan, LoadUser } from '../profile.js';
import type { LoadSecond } from '../results.js';
import { countBy, DeliveryLedger, Latencies, OpenSchedule, RATE_TOLERANCE, scheduledCount, seqOf, stamp } from '../stats.js';
import type { ChildResult, FromChild, ToChild } from './protocol.js';

/** A login (TCP, STARTTLS, SASL, bind, initial presence) that takes longer has failed with `timeout`. */
const LOGIN_TIMEOUT_MS = 20_000;
/** How long subscriptions still pending at the end of the ramp are awaited. */
const SUBSCRIBE_TIMEOUT_MS = 20_000;
/** After the restart, how long every subscription's presence is awaited (the storm's bound). */
const STORM_TIMEOUT_MS = 60_000;
/** How long the restart itself may take (xfed restarts the Edge or the gateway). */
const RESTART_TIMEOUT_MS = 60_000;
/** The send timer's period, and the most IMs one tick sends: a generator that cannot keep up falls behind instead of freezing. */
const TICK_MS = 2;
const MAX_BURST = 400;

const ROSTER_NS = 'jabber:iq:roster';

interface Session {
  readonly user: LoadUser;
  readonly index: number;
  xmpp?: Client;
  online: boolean;
  away: boolean;
  /** When the subscribe left (performance.now()); cleared by the answer. */
  subscribing?: number;
  subscribed: boolean;
  /** When the user re-announced after the restart (performance.now()); cleared by the contact's presence. */
  stormSince?: number;
}

function send(m: FromChild): void {
  process.send?.(m);
}

/** One run of the plan; `stop` ends it early (xfed's abort), and it still reports. */
class Generator {
  private readonly sessions: Session[];
  private readonly online: Session[] = [];
  private next = 0;
  private readonly stop = new AbortController();
  private readonly ledger = new DeliveryLedger();
  private readonly loginTime = new Latencies();
  private readonly subscribeTime = new Latencies();
  private readonly roundTrip = new Latencies();
  private readonly sendLag = new Latencies();
  private readonly stormTime = new Latencies();
  private readonly secondTrip = new Latencies();
  private readonly loginsFailed: Record<string, number> = {};
  private readonly subscriptionsFailed: Record<string, number> = {};
  private readonly errors: Record<string, number> = {};
  private readonly notices: string[] = [];
  private readonly series: LoadSecond[] = [];
  private logins = 0;
  private subscriptionsSent = 0;
  private subscriptionsOk = 0;
  private alreadySubscribed = 0;
  private presenceSent = 0;
  private presenceErrors = 0;
  private dropped = 0;
  private stormWaiting = 0;
  private stormCount = 0;
  private stormBack = 0;
  private stormAllBackMs: number | undefined;
  private stormStart = 0;
  private stormDone: (() => void) | undefined;
  private subsDone: (() => void) | undefined;
  private deliveriesDone: (() => void) | undefined;
  private sendingOver = false;
  private restarted: ((error?: string) => void) | undefined;
  private readonly now0 = Date.now();
  private tick = { logins: 0, sent: 0, delivered: 0, errors: 0 };
  private imStart = 0;
  private imEnd = 0;

  constructor(private readonly plan: LoadPlan) {
    this.sessions = plan.users.map((user, index) => ({ user, index, online: false, away: false, subscribed: false }));
  }

  abort(): void {
    this.stop.abort();
    this.stormDone?.();
    this.subsDone?.();
    this.deliveriesDone?.();
    this.restarted?.('the run was stopped');
  }

  /** An error no await of this file caught: counted by its code, said at the end. */
  stray(err: unknown): void {
    const e = err as (Error & { code?: string }) | undefined;
    countBy(this.strays, e?.code ?? e?.name ?? 'error');
  }

  private readonly strays: Record<string, number> = {};

  restartDone(error?: string): void {
    this.restarted?.(error);
  }

  async run(): Promise<ChildResult> {
    const { profile } = this.plan;
    trustOnly(this.plan.domains, this.plan.trustPem);
    // Loaded before the first login, so that no login's time includes it.
    this.client = (await import('@xmpp/client')).client;
    const seconds = setInterval(() => this.second(), 1000);
    try {
      await this.ramp();
      if (profile.subscribe) await this.awaitSubscriptions();
      if (this.stop.signal.aborted) return this.result();
      send({ type: 'all-online' });
      send({ type: 'steady' });
      await this.steady();
    } finally {
      clearInterval(seconds);
      this.second();
    }
    return this.result();
  }

  /** Logins at the arrival rate: user i starts at i * ramp / N. */
  private async ramp(): Promise<void> {
    const { rampMs } = this.plan.profile;
    const n = this.sessions.length;
    const t0 = performance.now();
    const logins: Promise<void>[] = [];
    let i = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = rampMs <= 0 ? n : Math.min(n, Math.floor(((performance.now() - t0) * n) / rampMs) + 1);
        while (i < due && !this.stop.signal.aborted) logins.push(this.login(this.sessions[i++]!));
        if (i >= n || this.stop.signal.aborted) {
          clearInterval(timer);
          resolve();
        }
      }, TICK_MS);
    });
    await Promise.all(logins);
    const rampS = (performance.now() - t0) / 1000;
    if (this.logins > 0) this.rampRate = this.logins / Math.max(rampS, 0.001);
  }

  private rampRate = 0;
  private client!: typeof import('@xmpp/client').client;

  private async login(s: Session): Promise<void> {
    const [local, domain] = s.user.jid.split('@') as [string, string];
    const started = performance.now();
    const xmpp = this.client({
      service: `xmpp://${this.plan.c2s.host}:${this.plan.c2s.port}`,
      domain,
      username: local,
      password: s.user.password,
      resource: 'load',
      // @xmpp/connection gives each step (STARTTLS, SASL, bind) 2 s by default: under a fast
      // arrival rate the server's answers take longer, and the login as a whole has its own bound.
      timeout: LOGIN_TIMEOUT_MS,
    });
    xmpp.reconnect.stop();
    // The server may still be sending when this side closes the stream.
    dropDataAfterClose(xmpp);
    let lastError: Error | undefined;
    xmpp.on('error', (err: Error) => {
      lastError = err;
    });
    xmpp.on('connect', () => (xmpp as unknown as { socket?: Socket }).socket?.setNoDelay?.(true));
    xmpp.on('stanza', (el: Element) => this.stanza(s, el));
    xmpp.on('disconnect', () => this.wentOffline(s));
    // Roster pushes (a subscription's new state) are acknowledged, as a client does (RFC 6121 2.1.6).
    xmpp.iqCallee.set(ROSTER_NS, 'query', () => true);
    s.xmpp = xmpp;
    try {
      const roster: Element = await withDeadline(
        (async () => {
          await xmpp.start();
          // The roster request makes the session an interested resource: only those get a
          // contact's 'subscribed' (RFC 6121 2.1.6, 3.1.6).
          return xmpp.iqCaller.get(xml('query', { xmlns: ROSTER_NS }));
        })(),
        LOGIN_TIMEOUT_MS,
        `login of ${s.user.jid}`,
        this.stop.signal,
      );
      this.write(s, '<presence/>');
      this.loginTime.record(performance.now() - started);
      this.logins++;
      this.tick.logins++;
      s.online = true;
      this.online.push(s);
      // Subscribed in an earlier run on the same target: the server keeps a repeated 'subscribed'
      // to itself (RFC 6121 3.1.6), so there is nothing to time.
      const item = roster.getChildren('item').find((i: Element) => String(i.attrs.jid).toLowerCase() === s.user.contact);
      if (item && ['to', 'both'].includes(String(item.attrs.subscription))) {
        s.subscribed = true;
        if (this.plan.profile.subscribe) this.alreadySubscribed++;
      } else if (this.plan.profile.subscribe) {
        s.subscribing = performance.now();
        this.subscriptionsSent++;
        this.write(s, `<presence type='subscribe' to='${escapeAttr(s.user.contact)}'/>`);
      }
    } catch (err) {
      if (this.stop.signal.aborted) return;
      countBy(this.loginsFailed, loginFailure(err as Error, lastError));
      s.xmpp = undefined;
      await xmpp.stop().catch(() => undefined);
    }
  }

  private wentOffline(s: Session): void {
    if (!s.online) return;
    s.online = false;
    const i = this.online.indexOf(s);
    if (i >= 0) this.online.splice(i, 1);
    if (!this.stop.signal.aborted && !this.closing) this.dropped++;
  }

  private closing = false;

  private async awaitSubscriptions(): Promise<void> {
    const pending = () => this.sessions.filter((s) => s.subscribing !== undefined).length;
    if (pending() > 0) {
      await withDeadline(new Promise<void>((resolve) => (this.subsDone = resolve)), SUBSCRIBE_TIMEOUT_MS, 'the subscriptions', this.stop.signal).catch(
        () => undefined,
      );
      this.subsDone = undefined;
    }
    for (const s of this.sessions)
      if (s.subscribing !== undefined) {
        s.subscribing = undefined;
        countBy(this.subscriptionsFailed, 'timeout');
      }
  }

  /** IMs on the open model's schedule, presence churn, the restart, then the grace for the last echoes. */
  private async steady(): Promise<void> {
    const { profile } = this.plan;
    const total = scheduledCount(profile.rate, profile.durationMs);
    this.imStart = Date.now();
    const end = this.imStart + profile.durationMs;
    const ims = new OpenSchedule(this.imStart, profile.rate, total);
    const churnTotal = scheduledCount(profile.presenceChurn, profile.durationMs);
    const churn = new OpenSchedule(this.imStart, profile.presenceChurn || 1, churnTotal);
    let nextChurn = 0;
    let rr = 0;
    /** Due while no user was online (every login failed, or every session dropped). */
    let nobodyOnline = 0;
    let lastSend = this.imStart;
    const pick = (): Session | undefined => {
      if (this.online.length === 0) return undefined;
      rr = (rr + 1) % this.online.length;
      return this.online[rr];
    };
    const storm = profile.restart ? this.restartAt(this.imStart + profile.restart.atMs, profile.restart.what) : Promise.resolve();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = Date.now();
        const due = ims.dueBy(now);
        let burst = 0;
        while (this.next < due && burst < MAX_BURST) {
          const seq = this.next++;
          const dueAt = ims.dueAt(seq);
          const s = pick();
          if (!s) {
            nobodyOnline++;
            continue;
          }
          this.ledger.send(seq, s.index, dueAt);
          this.write(s, `<message to='${escapeAttr(s.user.contact)}' type='chat' id='l${seq}'><body>${stamp(seq, dueAt)}</body></message>`);
          this.sendLag.record(now - dueAt);
          this.tick.sent++;
          burst++;
          lastSend = now;
        }
        const churnDue = churn.dueBy(now);
        while (nextChurn < churnDue && burst < MAX_BURST) {
          nextChurn++;
          const s = pick();
          if (!s) continue;
          s.away = !s.away;
          this.write(s, s.away ? '<presence><show>away</show></presence>' : '<presence/>');
          this.presenceSent++;
          burst++;
        }
        if (now >= end || this.stop.signal.aborted) {
          clearInterval(timer);
          resolve();
        }
      }, TICK_MS);
    });
    // What the timer could not send by the end was never sent: the machine's limit.
    const behind = total - this.next;
    this.sendingOver = true;
    this.imEnd = Math.max(lastSend, this.imStart + 1);
    const sendingS = Math.max(profile.durationMs, this.imEnd - this.imStart) / 1000;
    const achieved = this.ledger.sent / sendingS;
    if (!this.stop.signal.aborted) {
      if (behind > 0 && achieved < profile.rate * RATE_TOLERANCE)
        this.say(
          `the generator reached ${formatRate(achieved)} IMs/s of the ${formatRate(profile.rate)}/s asked (${behind} of ${total} IMs not sent; send lag p99 ${this.sendLag.stats().p99} ms): this machine cannot generate that rate`,
        );
      if (nobodyOnline > 0) this.say(`${nobodyOnline} of ${total} IMs not sent: no user was online when they were due`);
    }
    if (this.ledger.inFlight > 0 && !this.stop.signal.aborted) {
      await withDeadline(
        new Promise<void>((resolve) => (this.deliveriesDone = resolve)),
        Math.max(1, profile.graceMs - (Date.now() - ims.dueAt(Math.max(0, total - 1)))),
        'the last echoes',
        this.stop.signal,
      ).catch(() => undefined);
    }
    this.deliveriesDone = undefined;
    await storm;
  }

  /** At `at`: xfed restarts the Edge or the gateway; every user then announces himself again, and each subscription's presence is timed back. */
  private async restartAt(at: number, what: 'edge' | 'gateway'): Promise<void> {
    const wait = at - Date.now();
    if (wait > 0) {
      const ok = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(true), wait);
        this.stop.signal.addEventListener('abort', () => (clearTimeout(timer), resolve(false)), { once: true });
      });
      if (!ok) return;
    }
    this.say(`restarting the ${what === 'edge' ? 'Edge' : 'gateway'} under load`);
    this.stormStart = performance.now();
    send({ type: 'restart', what });
    const error = await withDeadline(
      new Promise<string | undefined>((resolve) => (this.restarted = resolve)),
      RESTART_TIMEOUT_MS,
      `the restart of the ${what}`,
    ).catch((err: Error) => err.message);
    this.restarted = undefined;
    if (error) {
      this.say(`the restart of the ${what} failed: ${error}`);
      this.stormRecord(what, undefined);
      return;
    }
    const announced = this.online.filter((s) => s.subscribed);
    this.stormCount = announced.length;
    this.stormWaiting = announced.length;
    for (const s of announced) {
      // Timed from the restart (asked for at stormStart), as the storm's whole figure is.
      s.stormSince = this.stormStart;
      this.write(s, "<presence type='unavailable'/>");
      this.write(s, s.away ? '<presence><show>away</show></presence>' : '<presence/>');
    }
    if (this.stormWaiting > 0)
      await withDeadline(new Promise<void>((resolve) => (this.stormDone = resolve)), STORM_TIMEOUT_MS, 'the presence storm', this.stop.signal).catch(
        () => undefined,
      );
    this.stormDone = undefined;
    this.stormRecord(what, this.stormWaiting === 0 ? Math.round(performance.now() - this.stormStart) : undefined);
  }

  private storm: ChildResult['storm'];

  private stormRecord(what: 'edge' | 'gateway', allBackMs: number | undefined): void {
    this.stormAllBackMs = allBackMs;
    this.storm = {
      what,
      atMs: this.plan.profile.restart?.atMs ?? 0,
      subscriptions: this.stormCount,
      back: this.stormBack,
      ...(allBackMs !== undefined ? { allBackMs } : {}),
      time: this.stormTime.stats(),
    };
  }

  private stanza(s: Session, el: Element): void {
    if (el.name === 'message') {
      if (el.attrs.type === 'error') {
        const seq = /^l(\d+)$/.exec(String(el.attrs.id ?? ''));
        if (seq && this.ledger.error(Number(seq[1]))) {
          countBy(this.errors, conditionOf(el));
          this.tick.errors++;
          this.settled();
        }
        return;
      }
      const body = el.getChildText('body');
      const seq = body === null ? undefined : seqOf(body);
      if (seq === undefined) return;
      const outcome = this.ledger.echo(seq, Date.now());
      if (outcome.kind !== 'delivered') return;
      this.roundTrip.record(outcome.latencyMs);
      this.secondTrip.record(outcome.latencyMs);
      this.tick.delivered++;
      this.settled();
      return;
    }
    if (el.name !== 'presence') return;
    const from = String(el.attrs.from ?? '')
      .split('/')[0]!
      .toLowerCase();
    if (from !== s.user.contact) return;
    const type = el.attrs.type as string | undefined;
    if (type === 'subscribed' && s.subscribing !== undefined) {
      this.subscribeTime.record(performance.now() - s.subscribing);
      s.subscribing = undefined;
      s.subscribed = true;
      this.subscriptionsOk++;
      this.subscriptionAnswered();
    } else if ((type === 'unsubscribed' || type === 'error') && s.subscribing !== undefined) {
      s.subscribing = undefined;
      countBy(this.subscriptionsFailed, type === 'error' ? conditionOf(el) : 'unsubscribed');
      this.subscriptionAnswered();
    } else if (type === 'error') {
      this.presenceErrors++;
    } else if (type === undefined && s.stormSince !== undefined) {
      this.stormTime.record(performance.now() - s.stormSince);
      s.stormSince = undefined;
      this.stormBack++;
      if (--this.stormWaiting === 0) this.stormDone?.();
    }
  }

  private subscriptionAnswered(): void {
    if (this.subsDone && !this.sessions.some((x) => x.subscribing !== undefined)) this.subsDone();
  }

  private settled(): void {
    if (this.sendingOver && this.ledger.inFlight === 0) this.deliveriesDone?.();
  }

  /** Raw stanzas, written as they are: a load IM needs none of the client's middleware. */
  private write(s: Session, stanza: string): void {
    s.xmpp?.write(stanza).catch(() => undefined);
  }

  private say(text: string): void {
    this.notices.push(text);
    send({ type: 'notice', text });
  }

  private second(): void {
    const trip = this.secondTrip.stats();
    const s: LoadSecond = {
      t: Math.round((Date.now() - this.now0) / 1000),
      online: this.online.length,
      logins: this.tick.logins,
      sent: this.tick.sent,
      delivered: this.tick.delivered,
      errors: this.tick.errors,
      p50: trip.p50,
      p99: trip.p99,
      max: trip.max,
    };
    this.tick = { logins: 0, sent: 0, delivered: 0, errors: 0 };
    this.secondTrip.reset();
    this.series.push(s);
    send({ type: 'second', second: s });
  }

  private result(): ChildResult {
    const { profile } = this.plan;
    const strays = Object.entries(this.strays);
    if (strays.length > 0) this.say(`connection errors outside any login or send: ${strays.map(([k, n]) => `${k} ${n}`).join(', ')}`);
    if (this.alreadySubscribed > 0)
      this.say(
        `${this.alreadySubscribed} user${this.alreadySubscribed === 1 ? ' was' : 's were'} subscribed to the contact already (an earlier run on this target): not timed again`,
      );
    if (this.dropped > 0) this.say(`${this.dropped} session${this.dropped === 1 ? '' : 's'} dropped during the run`);
    const sendingS = this.imStart ? Math.max(profile.durationMs, (this.imEnd || Date.now()) - this.imStart) / 1000 : 0;
    return {
      engine: 'xfed',
      logins: {
        attempted: this.logins + Object.values(this.loginsFailed).reduce((a, b) => a + b, 0),
        succeeded: this.logins,
        failed: this.loginsFailed,
        time: this.loginTime.stats(),
        rateAchieved: round(this.rampRate),
      },
      ...(profile.subscribe
        ? {
            subscriptions: {
              attempted: this.subscriptionsSent,
              succeeded: this.subscriptionsOk,
              failed: this.subscriptionsFailed,
              time: this.subscribeTime.stats(),
            },
          }
        : {}),
      messages: {
        scheduled: scheduledCount(profile.rate, profile.durationMs),
        sent: this.ledger.sent,
        delivered: this.ledger.delivered,
        lost: this.ledger.lost,
        duplicates: this.ledger.duplicates,
        reordered: this.ledger.reordered,
        errors: this.errors,
        rateTarget: profile.rate,
        rateAchieved: sendingS ? round(this.ledger.sent / sendingS) : 0,
        throughput: sendingS ? round(this.ledger.delivered / sendingS) : 0,
        roundTrip: this.roundTrip.stats(),
        sendLag: this.sendLag.stats(),
      },
      presence: { sent: this.presenceSent, errors: this.presenceErrors },
      ...(this.storm ? { storm: this.storm } : profile.restart && this.stormStart ? { storm: this.stormSoFar(profile.restart.what) } : {}),
      series: this.series,
      notices: this.notices,
    };
  }

  /** A storm cut short (the run was stopped): what came back so far. */
  private stormSoFar(what: 'edge' | 'gateway'): NonNullable<ChildResult['storm']> {
    return {
      what,
      atMs: this.plan.profile.restart?.atMs ?? 0,
      subscriptions: this.stormCount,
      back: this.stormBack,
      ...(this.stormAllBackMs !== undefined ? { allBackMs: this.stormAllBackMs } : {}),
      time: this.stormTime.stats(),
    };
  }

  /** Ends every session; bounded, since the process exits after it anyway. */
  async close(): Promise<void> {
    this.closing = true;
    const all = this.sessions.flatMap((s) => (s.xmpp ? [s.xmpp.stop().catch(() => undefined)] : []));
    await withDeadline(Promise.all(all), 5_000, 'the sessions to close').catch(() => undefined);
  }
}

/**
 * STARTTLS to the partner's domains trusts the run's CA, through one TLS context shared by every
 * session: a context per connection (with the system's roots, as xmpp/trust.ts builds for a few
 * sessions) costs about half a megabyte each. @xmpp/starttls passes no TLS options of its own.
 */
function trustOnly(domains: readonly string[], pem: string): void {
  const names = new Set(domains.map((d) => d.toLowerCase()));
  const secureContext = tls.createSecureContext({ ca: pem });
  const connect = tls.connect;
  const wrapped = function (this: unknown, ...args: unknown[]) {
    const options = args.find((a): a is tls.ConnectionOptions => typeof a === 'object' && a !== null);
    const name = (options?.servername ?? options?.host)?.toLowerCase();
    if (options && name && names.has(name) && !options.secureContext) {
      options.secureContext = secureContext;
      options.servername ??= name;
    }
    return (connect as (...a: unknown[]) => tls.TLSSocket).apply(this, args);
  };
  (tls as { connect: unknown }).connect = wrapped;
}

function loginFailure(err: Error, last: Error | undefined): string {
  if (err.name === 'TimeoutError') return 'timeout';
  for (const e of [last, err] as Array<(Error & { condition?: string; code?: string }) | undefined>) {
    if (e?.condition) return e.condition;
    if (e?.code) return e.code;
  }
  return (last ?? err).message.split('\n')[0]!.slice(0, 80);
}

function conditionOf(el: Element): string {
  const error = el.getChild('error');
  return (
    error
      ?.getChildElements()
      .find((c) => c.attrs.xmlns === STANZAS_NS && c.getName() !== 'text')
      ?.getName() ?? 'undefined-condition'
  );
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/'/g, '&apos;').replace(/</g, '&lt;');
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function formatRate(n: number): string {
  return n >= 100 ? String(Math.round(n)) : String(round(n));
}

let generator: Generator | undefined;

process.on('message', (m: ToChild) => {
  if (m.type === 'start' && !generator) {
    const g = new Generator(m.plan);
    generator = g;
    void g
      .run()
      .then(
        (result) => send({ type: 'result', result }),
        (err: Error) => send({ type: 'failed', error: err.stack ?? err.message }),
      )
      .then(() => g.close())
      .finally(() => process.disconnect?.());
  } else if (m.type === 'restarted') generator?.restartDone(m.error);
  else if (m.type === 'abort') generator?.abort();
});
// xfed is gone (or done with it): nothing of the generator may outlive it.
process.on('disconnect', () => process.exit(0));
// A connection reset inside the XMPP library, outside any login or send this file awaits, is one
// session's failure (it counts where it shows: a login that fails, a session that drops), never
// the end of the generator.
process.on('unhandledRejection', (err) => generator?.stray(err));
