import type { Endpoint } from '../infra/endpoint.js';
import type { LogView } from '../infra/line-log.js';
import type { Redactor } from '../infra/redact.js';
import type { PartnerSpec } from '../partner/spec.js';
import type { RuntimeChoice, RuntimeKind, SetupProgress } from '../prosody/types.js';
import type { BehaviourLog } from '../sfb/behaviours/log.js';
import type { SfbAvailability, ShowMapping } from '../sfb/availability.js';
import type { ResolvedPartnerProfile } from '../sfb/partner-profile.js';
import type { StepTarget } from '../steps/index.js';
import type { XmppUser } from '../xmpp/client.js';
import type { FlowRecorder } from './flow.js';

/**
 * What a target needs from a suite to start, read once from the suite (`resolveSuite`) or written
 * in code: the partner, the SfB domain, the partner profile the SfB side holds, the echo user.
 */
export interface TargetSetup {
  readonly partner: PartnerSpec;
  readonly sfbDomain: string;
  /** The New-CsXmppAllowedPartner profile the SfB side holds for the partner, SfB's defaults applied. */
  readonly partnerProfile: ResolvedPartnerProfile;
  /** An SfB user who echoes partners' IMs, if the suite has one: barriers and the matrix go through him. */
  readonly echoUser: string | undefined;
  /** Where the suite's relative file names start. */
  readonly baseDir: string;
}

export interface TargetOptions {
  runtime: RuntimeChoice;
  baseImage?: string;
  /** Secrets the target reads (passwords): reports and logs must never show them. */
  redactor?: Redactor;
  /** Told while setup does something slow (the first build of the Prosody image). */
  progress?: (p: SetupProgress) => void;
  /** Something the run must say that belongs to no check (a lab user's session dropped), one line. */
  notice?: (text: string) => void;
}

/**
 * What a suite runs against, as the runner, the checks and the steps see it: the partner's users,
 * the SfB users, the message flow, the S2S link, and (the simulation only) the deployment that
 * migration steps change. The simulated legacy side and a lab's real Edge implement it.
 */
export interface SuiteTarget extends StepTarget, AsyncDisposable {
  readonly kind: 'sim' | 'gateway';
  readonly runtime: RuntimeKind;
  readonly sfbDomain: string;
  readonly flow: FlowRecorder;
  /** The catalogue behaviours the target applied (the simulation; a real gateway has none). */
  readonly behaviours?: BehaviourLog;
  /** The DNS server the run's servers resolve federation peers with. */
  readonly resolver: Endpoint;
  /** A partner user, logged in and available (roster fetched), connected once per run. */
  partnerUser(name: string): Promise<XmppUser>;
  /**
   * A new, second session of a partner user: its initial presence makes the partner's server probe
   * the user's contacts, and the answers come to it. Stop it after.
   */
  partnerSession(name: string): Promise<XmppUser>;
  /** An SfB user as checks see him; an unknown name is an error. */
  sfbUser(name: string): SfbUser;
  /** Something sent through the same path after a check's stanza, whose answer proves order. */
  barrier(via: XmppUser, timeoutMs?: number): Promise<void>;
  /** Drops the partner's open S2S streams to the SfB domain, so the next stanza opens one. */
  renewS2s(): Promise<void>;
  /** The partner Prosody's log, as it grows. */
  readonly partnerLog: LogView;
  /** Prosody log lines of the partner, and of the Edge where xfed runs it (the simulated one). */
  logs(): { partner: string[]; edge: string[] };
  /**
   * Where an answer the system under test never gave was lost, when the target can tell (a real
   * Edge that never opened its stream back, a simulated Edge a step killed): the diagnosis of a
   * federation failure.
   */
  diagnose(): string | undefined;
  /**
   * What of xfed's own is broken now, if anything: its partner Prosody exited or does not answer,
   * its test DNS does not answer. Asked after a check failed, so that a failure the harness caused
   * is reported as the harness's, never as the federation's. Bounded (a few seconds).
   */
  harnessFault(): Promise<string | undefined>;
  /** Where the partner's S2S reaches the SfB domain: the SRV record's target, or a pinned Edge. */
  locateEdge(timeoutMs: number): Promise<EdgeLocation | string>;
  /**
   * How the partner presents itself on S2S: its domain, its certificate, and the CAs it trusts
   * for the Edge's certificate (empty: the system's roots, for an Edge with a public certificate).
   */
  partnerIdentity(): PartnerIdentity;
  /** The allowed-partner profile the SfB side holds for the partner now, if it holds one. */
  allowedProfile(): ResolvedPartnerProfile | undefined;
  stop(): Promise<void>;
}

/**
 * An SfB user, whatever the target: what he does on his own, and what xfed can make him do or see.
 * Where a target cannot (a lab user xfed does not drive), the method throws `NotPossible` at once,
 * before anything is sent, with the reason.
 */
export interface SfbUser {
  readonly name: string;
  readonly jid: string;
  /** He answers partners' IMs with their text (a simulated echo user, a lab user of role echo). */
  readonly echoes: boolean;
  /**
   * He answers partners' subscriptions from his own session (a lab user of role echo or accept), in
   * no order with a barrier through another user, so a check awaits his answer. Otherwise an answer
   * comes back through the gateway before a barrier's, or never.
   */
  readonly answersSubscriptionsHimself: boolean;
  /** Resolves when he has received an IM with this body (over SIP, or in his XMPP session). */
  receivesIm(body: string, opts: WaitOptions): Promise<string>;
  /** Writes to a partner JID; resolves once the SfB side knows whether the IM went out. */
  sendIm(to: string, body: string, opts: WaitOptions): Promise<SfbImAnswer>;
  /** What he publishes now, where xfed knows it (the simulation, a lab user it drives). */
  presence(): { availability: SfbAvailability; note?: string } | undefined;
  /** How the gateway maps his availability to XMPP presence. */
  readonly showMapping: ShowMapping;
  /** Publishes an availability and note, as his client would. */
  setAvailability(availability: SfbAvailability, note?: string): Promise<void>;
}

export interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

/** What became of an SfB user's IM on the SfB side: accepted, or refused with the failure in outcome words. */
export type SfbImAnswer = { accepted: true; text: string } | { accepted: false; detail: Record<string, string>; text: string };

export interface PartnerIdentity {
  domain: string;
  certPem?: string;
  keyPem?: string;
  trustPem: string;
}

export interface EdgeLocation {
  host: string;
  port: number;
  /** How it was found: `SRV edge.contoso.test:5269`, `A contoso.test:5269`, `pinned edge ...`. */
  via: string;
}
