import type { Endpoint, RuntimeKind } from '../partner/types.js';
import type { Step, Suite } from '../scenario/schema.js';
import type { XmppUser } from '../xmpp/client.js';
import type { FlowRecorder } from './flow.js';
import type { ResolvedPartnerProfile } from './sim/mapping/partner-profile.js';
import type { SfbUserHandle } from './sim/sim-topology.js';
import type { ShowMapping, SfbAvailability } from './sim/sip/availability.js';
import type { UserBehaviour } from './sim/sip/directory.js';
import type { SipUserEvent } from './sim/sip/pool.js';

/**
 * What a suite runs against, as the runner and the checks see it: the partner's users, the
 * message flow, the S2S link, and the migration steps. The simulated legacy side implements it;
 * a real legacy gateway (a lab's Edge) is the other implementation, without an SfB side that xfed
 * can drive or observe (`sfb` is then undefined, and checks that need it say so).
 */
export interface SuiteTarget {
  readonly kind: 'sim';
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
  logs(): { partner: string[]; edge: string[] };
  /** How the partner presents itself on S2S: its domain, its certificate, and the CAs it trusts. */
  partnerIdentity(): Promise<{ domain: string; certPem?: string; keyPem?: string; trustPem: string }>;
  /** The allowed-partner profile the SfB side holds for the partner, if it holds one. */
  allowedProfile(): ResolvedPartnerProfile | undefined;
  /** Applies a migration step (not `manual` or `run`: the runner does those itself). */
  apply(step: Step): Promise<string>;
  stop(): Promise<void>;
  readonly sfb: SfbSide | undefined;
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
  runtime: import('../partner/types.js').RuntimeChoice;
  baseImage?: string;
}

/** Starts the target a suite names. */
export async function startTarget(suite: Suite, opts: TargetOptions): Promise<SuiteTarget> {
  const { SimTarget } = await import('./sim/sim-target.js');
  return SimTarget.start(suite, opts);
}
