import type { Endpoint } from '../infra/endpoint.js';
import type { RuntimeKind } from '../prosody/types.js';
import type { Redactor } from '../infra/redact.js';
import type { Step, Suite } from '../scenario/schema.js';
import { targetOf } from '../scenario/target-spec.js';
import type { XmppUser } from '../xmpp/client.js';
import type { FlowRecorder } from './flow.js';
import type { Responder } from './lab/responder.js';
import type { ResolvedPartnerProfile } from '../sfb/partner-profile.js';
import type { SfbUserHandle } from './sim/sim-topology.js';
import type { ShowMapping, SfbAvailability } from '../sfb/availability.js';
import type { UserBehaviour } from './sim/pool/directory.js';
import type { SipUserEvent } from './sim/pool/user-event.js';

/**
 * What a suite runs against, as the runner and the checks see it: the partner's users, the
 * message flow, the S2S link, and the migration steps. The simulated legacy side implements it;
 * a real legacy gateway (a lab's Edge) is the other implementation, without an SfB side that xfed
 * can drive or observe (`sfb` is then undefined, and checks that need it say so).
 */
export interface SuiteTarget {
  readonly kind: 'sim' | 'gateway';
  readonly runtime: RuntimeKind;
  readonly sfbDomain: string;
  readonly flow: FlowRecorder;
  /** The DNS server the run's servers resolve federation peers with. */
  readonly resolver: Endpoint;
  partnerUser(name: string): Promise<XmppUser>;
  /** Something sent through the same path after a check's stanza, whose answer proves order. */
  barrier(via: XmppUser, timeoutMs?: number): Promise<void>;
  /** Drops the partner's open S2S streams to the SfB domain, so the next stanza opens one. */
  renewS2s(): Promise<void>;
  /** Prosody log lines of the partner, and of the Edge where xfed runs it (the simulated one). */
  logs(): { partner: string[]; edge: string[] };
  /** Why a wait may have timed out, when the target can tell (a real Edge that never came back). */
  diagnose?(): string | undefined;
  /** Where the partner's S2S reaches the SfB domain: the SRV record's target, or a pinned Edge. */
  locateEdge(timeoutMs: number): Promise<EdgeLocation | string>;
  /**
   * How the partner presents itself on S2S: its domain, its certificate, and the CAs it trusts
   * for the Edge's certificate (empty: the system's roots, for an Edge with a public certificate).
   */
  partnerIdentity(): Promise<{ domain: string; certPem?: string; keyPem?: string; trustPem: string }>;
  /** The allowed-partner profile the SfB side holds for the partner, if it holds one. */
  allowedProfile(): ResolvedPartnerProfile | undefined;
  /** Applies a migration step (not `manual` or `run`: the runner does those itself). */
  apply(step: Step): Promise<string>;
  stop(): Promise<void>;
  readonly sfb: SfbSide | undefined;
  /** A real gateway's test users: what they do, and the ones xfed drives itself. */
  readonly remote: RemoteUsers | undefined;
}

export interface EdgeLocation {
  host: string;
  port: number;
  /** How it was found: `SRV edge.contoso.test:5269`, `A contoso.test:5269`, `pinned edge ...`. */
  via: string;
}

/** A real gateway's SfB test users, as a suite describes them (target.gateway.users). */
export interface RemoteUsers {
  role(name: string): 'echo' | 'accept' | 'none' | undefined;
  /** The user where xfed drives him over XMPP (login); undefined otherwise. */
  driven(name: string): Responder | undefined;
  /**
   * A second session of `partnerUser`: its initial presence makes the partner's server probe the
   * user's contacts, and the answers come to it. A server that answers an already approved
   * subscription need not send the contact's presence again; a probe asks for it. Stop it after.
   */
  probeFrom(partnerUser: string): Promise<XmppUser>;
}

/** The SfB side, where the target lets xfed act as its users and watch what they receive. */
export interface SfbSide {
  user(name: string): SfbUserHandle;
  state(name: string): { behaviour: UserBehaviour; availability: SfbAvailability; note?: string } | undefined;
  readonly showMapping: ShowMapping;
  waitForEvent(match: (e: SipUserEvent) => boolean, timeoutMs: number, what: string): Promise<SipUserEvent>;
  onEvent(listener: (e: SipUserEvent) => void): () => void;
}

export interface TargetOptions {
  runtime: import('../prosody/types.js').RuntimeChoice;
  baseImage?: string;
  /** The suite file's directory: files a suite names are relative to it. Default: the working directory. */
  baseDir?: string;
  /** Secrets the target reads (passwords): reports and logs must never show them. */
  redactor?: Redactor;
}

/** Starts the target a suite names. */
export async function startTarget(suite: Suite, opts: TargetOptions): Promise<SuiteTarget> {
  if (targetOf(suite).kind === 'gateway') {
    const { GatewayTarget } = await import('./lab/lab-target.js');
    return GatewayTarget.start(suite, opts);
  }
  const { SimTarget } = await import('./sim/sim-target.js');
  return SimTarget.start(suite, opts);
}
