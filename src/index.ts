// xfed's public API for Jest tests and other code: what the README documents. The parts of the
// simulated SfB side (its Edge, gateway, pools and mappings) are in 'xfed/sim'.

// Partners: real Prosody servers that federate, and their users.
export { Federation, type FederationOptions } from './partner/federation.js';
export { PartnerServer } from './partner/partner-server.js';
export type { PartnerAccount, PartnerHandle, PartnerOptions, PartnerUserSpec } from './partner/types.js';
export {
  DEFAULT_S2S_SECURITY,
  type CertificateKind,
  type RuntimeChoice,
  type RuntimeKind,
  type S2sAuth,
  type S2sSecurity,
  type SetupProgress,
  type TlsMode,
} from './prosody/types.js';
export { probeRuntimes, type RuntimeProbe } from './prosody/runtime-choice.js';
export type { Endpoint } from './infra/endpoint.js';
export {
  XmppUser,
  bareOf,
  errorCondition,
  stanza,
  stanzaError,
  xml,
  type ConnectOptions,
  type Element,
  type ReceivedStanza,
  type StanzaMatcher,
} from './xmpp/client.js';
export { sendIm, subscribeAndApprove, type ImOutcome, type SubscriptionOutcome } from './xmpp/exchange.js';
export { probeStream, describeFeatures, type StreamProbeResult } from './xmpp/stream-probe.js';
export { probeS2s, inspectCertificate, type S2sProbeReport } from './xmpp/s2s-probe.js';

// Targets: the simulated legacy SfB side, a lab's real Edge, and the contract both keep.
export { SimTopology, type SimTopologyOptions } from './targets/sim/sim-topology.js';
export type { SimImAnswer, SimImOptions, SimSfbUser } from './targets/sim/sfb-users.js';
export { LabTarget } from './targets/lab/lab-target.js';
export { startResponder, type Responder, type ResponderOptions } from './targets/lab/responder.js';
export {
  startTarget,
  type EdgeLocation,
  type PartnerIdentity,
  type SfbImAnswer,
  type SfbUser,
  type SuiteTarget,
  type TargetOptions,
  type TargetSetup,
  type TargetSpec,
  type WaitOptions,
} from './targets/index.js';
export { FlowRecorder, LANES, type FlowEvent, type Lane } from './targets/flow.js';
export { runNegotiationMatrix, type MatrixRow } from './matrix/negotiation-matrix.js';

// The SfB model both targets share.
export { DEFAULT_SHOW_MAPPING, SFB_AVAILABILITIES, type SfbAvailability, type ShowMapping } from './sfb/availability.js';
export { EDGE_CERTIFICATES, POOLS, SRV_TARGETS, type EdgeCertificate, type PoolName, type SrvTarget } from './sfb/deployment.js';
export {
  allowedStreamAuth,
  describeProfileCommand,
  resolvePartnerProfile,
  type PartnerProfile,
  type PartnerType,
  type ResolvedPartnerProfile,
} from './sfb/partner-profile.js';

// Suites: load, resolve and run them; steps and checks as the format defines them.
export { loadSuite, parseSuite, ScenarioError, type LoadedSuite, type SuiteProblem, type SuiteVariables, type VariableSources } from './scenario/loader.js';
export { resolveSuite, type ResolvedSuite } from './scenario/resolve.js';
export { suiteJsonSchema, type Phase, type Suite } from './scenario/schema.js';
export { CHECK_KINDS, type Check, type CheckContext, type CheckKind, type CheckRun } from './checks/index.js';
export { STEP_KINDS, type Deployment, type MigrationStep, type Step } from './steps/index.js';
export type { LabSpec } from './targets/lab/spec.js';
export type { SimSpec } from './targets/sim/spec.js';
export { runSuite, type RunOptions } from './runner/run-suite.js';

// Reports: the Reporter seam and every reporter, the results format, renderers and comparison.
export * from './report/index.js';

// Jest matchers: expect.extend(xfedMatchers).
export { xfedMatchers, type StanzaPattern } from './jest/matchers.js';

// Lifetimes and errors.
export { TeardownStack } from './infra/teardown.js';
export { Redactor } from './infra/redact.js';
export { EnvironmentError, NotPossible, StartupError, TimeoutError, XfedError, isUserError } from './errors.js';
