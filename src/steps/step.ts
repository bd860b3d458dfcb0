import { z } from 'zod';
import { NotPossible } from '../errors.js';
import type { Conflict, SuiteReference } from '../infra/format.js';
import type { SfbAvailability } from '../sfb/availability.js';
import type {
  EdgeCertificate,
  EdgeName,
  FederationRoute,
  InternalHopCertificate,
  InternalHopPort,
  PoolName,
  RouteTarget,
  ServiceState,
  SrvTarget,
} from '../sfb/deployment.js';
import type { PartnerProfileSpec } from '../sfb/partner-profile.js';

/**
 * What a migration step changes on the simulated legacy side, as an SfB administrator would on
 * cutover night. A real lab is changed by people, so a real gateway target has none (manual and
 * run steps stand in).
 */
export interface Deployment {
  /** Move-CsUser. */
  moveUser(user: string, pool: PoolName): Promise<void>;
  /** Grant-CsExternalAccessPolicy with or without EnableXmppAccess. */
  setXmppAccess(user: string, enabled: boolean): Promise<void>;
  /** A 2019 Edge (no XMPP proxy) in place of the legacy one, or the legacy one back. */
  replaceEdge(edge: EdgeName): Promise<void>;
  /** Points `_xmpp-server._tcp.<sfb domain>` at an Edge, or removes it. */
  pointSrvRecord(target: SrvTarget): Promise<void>;
  /** The Edge certificate renewed; `domain`: the one SIP domain whose bare-domain SAN a `missing-bare-domain-san` certificate lacks (default all). */
  renewEdgeCertificate(certificate: EdgeCertificate, domain?: string): Promise<void>;
  /** Remove-CsXmppAllowedPartner (default: the partner's primary domain). */
  removePartner(domain: string | undefined): Promise<void>;
  /** New-/Set-CsXmppAllowedPartner: changes what the profile names, over the profile in force. */
  setPartner(profile: PartnerProfileSpec): Promise<void>;
  setGateway(state: 'stopped' | 'started' | 'restarted'): Promise<void>;
  /** The partner-Edge link: cut (connections reset and refused), restored, or slowed by `delayMs` per chunk. */
  setNetwork(state: 'cut' | 'restored' | 'slow', delayMs: number | undefined): Promise<void>;
  /** The site's SIP or XMPP federation route (Topology Builder, Set-CsSite) through an Edge, or none; resolves with what it changed for XMPP. */
  setFederationRoute(route: FederationRoute, to: RouteTarget): Promise<string>;
  /** Set-CsAccessEdgeConfiguration -AllowFederatedUsers, and the legacy Access Edge service; resolves with what it changed for XMPP. */
  setAccessEdge(change: { allowFederatedUsers?: boolean | undefined; service?: ServiceState | undefined }): Promise<string>;
  /** The legacy Edge's XMPP Translating Gateway Proxy service. */
  setXmppProxy(state: ServiceState): Promise<void>;
  /** Move-CsManagementServer: the central management store on the legacy or the 2019 pool; resolves with what it changed for XMPP. */
  moveCms(to: PoolName): Promise<string>;
  /** A legacy Edge pool down or up, or its SRV records' priority (null: removed); resolves with what it changed for XMPP. */
  setEdgePool(pool: string, change: { state?: 'up' | 'down' | undefined; priority?: number | null | undefined }): Promise<string>;
  /** "Failing over the Edge pool used for XMPP federation": the XMPP federation route to another pool, with its SRV record; resolves with what it changed. */
  failOverXmpp(pool: string): Promise<string>;
  /** The Front End -> Edge internal hop (XMPP over MTLS, TCP 23456): the Edge's internal certificate, the internal firewall; resolves with what the gateway could do. */
  setInternalHop(change: { certificate?: InternalHopCertificate | undefined; port?: InternalHopPort | undefined }): Promise<string>;
  /** A fault of the simulated side (steps/faults.ts): a crash, a restart, the test DNS down or up; resolves with what it did. */
  injectFault(fault: SimFault): Promise<string>;
}

/** The faults a suite can inject into the simulated side. */
export type SimFault = 'kill-edge' | 'restart-edge' | 'kill-component' | 'stop-dns' | 'start-dns';

/** What steps need of a target: its deployment, and its SfB users' presence. */
export interface StepTarget {
  readonly deployment: Deployment | undefined;
  sfbUser(name: string): { setAvailability(availability: SfbAvailability, note?: string): Promise<void> };
}

/** How the runner meets the people and scripts behind `manual` and `run` steps. */
export interface OperatorOptions {
  /** Treat manual steps as done without asking (non-interactive runs). */
  assumeDone?: boolean;
  /** Where the operator answers; a manual step needs a terminal unless assumeDone. */
  input?: NodeJS.ReadStream;
  output?: NodeJS.WriteStream;
}

export interface StepContext {
  target: StepTarget;
  operator: OperatorOptions;
}

/** One step kind: where it applies, how it reads in a report, and what it does. */
export interface StepKind<S extends { action: string }> {
  readonly action: string;
  /** `sim`: changes the simulated side, so a gateway suite refuses it; `any`: every target. */
  readonly appliesTo: 'sim' | 'any';
  /** The field that names an SfB user, which validation checks against the suite's users. */
  readonly sfbUserField: string | undefined;
  /** What each of its fields that names something in the suite names (the SfB user field included): the validator looks each up. */
  readonly names: Readonly<Record<string, SuiteReference>>;
  /** Combinations of its fields that cannot be applied. */
  readonly conflicts: readonly Conflict<S>[];
  /** It bounds its own wait (an operator may take half an hour); the runner bounds the others. */
  readonly selfBounded: boolean;
  /** What it makes its SfB user do, which a real gateway's user does only where xfed drives him. */
  sfbUserActs(step: S): string | undefined;
  /** One line: what the step does, for the live view and the reports. */
  describe(step: S): string;
  /** Applies the step; resolves with what to record as its output, if anything. */
  apply(step: S, ctx: StepContext): Promise<string | undefined>;
}

/** A step kind with its schema: `{ action, ...fields }`, strict, so an unknown key is an error. */
export interface StepDefinition<S extends { action: string }, Schema extends z.core.$ZodTypeDiscriminable> extends StepKind<S> {
  readonly schema: Schema;
}

type Fields<A extends string, F extends z.ZodRawShape> = z.core.util.Writeable<{ action: z.ZodLiteral<A> } & F>;
type StepOf<A extends string, F extends z.ZodRawShape> = z.infer<z.ZodObject<Fields<A, F>, z.core.$strict>> & { action: A };

/** Declares a step kind from its action and fields. */
export function defineStep<const A extends string, F extends z.ZodRawShape>(def: {
  action: A;
  fields: F;
  /** Shown to editors through the JSON Schema. */
  description?: string;
  appliesTo: 'sim' | 'any';
  sfbUserField?: keyof F & string;
  /** The other fields that name a user, domain or pool of the suite. */
  names?: Partial<Record<keyof F & string, SuiteReference>>;
  conflicts?: Conflict<StepOf<A, F>>[];
  selfBounded?: boolean;
  sfbUserActs?(step: StepOf<A, F>): string;
  describe(step: StepOf<A, F>): string;
  apply(step: StepOf<A, F>, ctx: StepContext): Promise<string | undefined | void>;
}): StepDefinition<StepOf<A, F>, z.ZodObject<Fields<A, F>, z.core.$strict>> {
  const object = z.strictObject({ action: z.literal(def.action), ...def.fields });
  return {
    action: def.action,
    schema: def.description ? object.describe(def.description) : object,
    appliesTo: def.appliesTo,
    sfbUserField: def.sfbUserField,
    names: { ...(def.names as Record<string, SuiteReference> | undefined), ...(def.sfbUserField ? { [def.sfbUserField]: 'sfb-user' as const } : {}) },
    conflicts: def.conflicts ?? [],
    selfBounded: def.selfBounded ?? false,
    sfbUserActs: def.sfbUserActs ?? (() => undefined),
    describe: def.describe,
    apply: async (step, ctx) => (await def.apply(step, ctx)) ?? undefined,
  };
}

/** The simulated deployment a `sim` step changes; a real gateway's lab has none to change. */
export function deploymentOf(ctx: StepContext, action: string): Deployment {
  if (!ctx.target.deployment)
    throw new NotPossible(`the ${action} step changes the simulated side; against a real gateway do it on the lab and put a manual or run step here`);
  return ctx.target.deployment;
}
