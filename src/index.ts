// xfed's public API for Jest tests and other code: what the README documents, nothing internal.
export { Federation, type FederationOptions } from './partner/federation.js';
export { PartnerServer } from './partner/partner-server.js';
export { DEFAULT_S2S_SECURITY, type CertificateKind, type RuntimeChoice, type RuntimeKind, type S2sAuth, type S2sSecurity, type TlsMode } from './prosody/types.js';
export type { PartnerAccount, PartnerHandle, PartnerOptions, PartnerUserSpec } from './partner/types.js';
export type { Endpoint } from './infra/endpoint.js';
export { probeRuntimes, type RuntimeProbe } from './prosody/runtime-choice.js';
export { XmppUser, bareOf, errorCondition, stanza, stanzaError, xml, type ConnectOptions, type Element, type ReceivedStanza, type StanzaMatcher } from './xmpp/client.js';
export { sendIm, subscribeAndApprove, type ImOutcome, type SubscriptionOutcome } from './xmpp/exchange.js';
export { probeStream, describeFeatures, type StreamProbeResult } from './xmpp/stream-probe.js';
export { TestCa, selfSignedCertificate, type CertificateOptions, type KeyAndCert } from './infra/pki.js';
export { TestDnsServer, type SrvRecord } from './infra/dns.js';
export { TeardownStack } from './infra/teardown.js';
export { EnvironmentError, StartupError, TimeoutError, XfedError, isUserError } from './errors.js';

// The simulated legacy SfB side (issue 2/4): topology, migration steps, and its parts.
export { SimTopology, type SfbUserHandle, type SimTopologyOptions } from './targets/sim/sim-topology.js';
export { MIGRATION_ACTIONS, POOLS, describeStep, type MigrationAction, type MigrationStep, type PoolName } from './targets/sim/migration.js';
export { LegacyEdge, EDGE_CERTIFICATES, type EdgeCertificate, type LegacyEdgeOptions } from './targets/sim/edge/legacy-edge.js';
export { XmppSipGateway, type XmppSipGatewayOptions } from './targets/sim/gateway/xmpp-sip-gateway.js';
export { SIP_MESSAGE_LIMIT } from './targets/sim/gateway/im.js';
export { SipPool } from './targets/sim/pool/pool.js';
export type { SipUserEvent } from './targets/sim/pool/user-event.js';
export { SfbDirectory, type SfbUserSpec, type UserBehaviour } from './targets/sim/pool/directory.js';
export { DEFAULT_SHOW_MAPPING, SFB_AVAILABILITIES, type SfbAvailability, type ShowMapping } from './sfb/availability.js';
export {
  allowedStreamAuth,
  describeProfileCommand,
  resolvePartnerProfile,
  type PartnerProfile,
  type PartnerType,
  type ResolvedPartnerProfile,
} from './sfb/partner-profile.js';
export { jidToSipUri, sipUriToJid } from './targets/sim/mapping/address.js';
export { sipStatusToStanzaError, stanzaErrorToSipStatus } from './targets/sim/mapping/errors.js';
export { FlowRecorder, LANES, type FlowEvent, type Lane } from './targets/flow.js';

// A real legacy gateway (issue 4/4): the target, its responder users, the S2S probe, secrets.
export { GatewayTarget } from './targets/lab/lab-target.js';
export { startResponder, type Responder, type ResponderOptions } from './targets/lab/responder.js';
export { startTarget, type EdgeLocation, type RemoteUsers, type SuiteTarget, type TargetOptions } from './targets/target.js';
export { probeS2s, inspectCertificate, type S2sProbeReport } from './xmpp/s2s-probe.js';
export { runNegotiationMatrix, type MatrixRow } from './matrix/negotiation-matrix.js';
export { Redactor } from './infra/redact.js';

// Jest matchers: expect.extend(xfedMatchers).
export { xfedMatchers, type StanzaPattern } from './jest/matchers.js';

// Suites and reports, for users' own tooling: load and run a suite, render and compare results.
export { loadSuite, parseSuite, ScenarioError, type LoadedSuite, type SuiteProblem } from './scenario/loader.js';
export { suiteJsonSchema, type Check, type GatewayTargetSpec, type Phase, type Step, type Suite } from './scenario/schema.js';
export { runSuite, type RunListener, type RunOptions } from './runner/run-suite.js';
export * from './report/index.js';
