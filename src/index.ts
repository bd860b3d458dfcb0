// xfed's public API for Jest tests and other code: what the README documents, nothing internal.
export { Federation, type FederationOptions } from './partner/federation.js';
export { PartnerServer } from './partner/partner-server.js';
export {
  DEFAULT_S2S_SECURITY,
  type CertificateKind,
  type Endpoint,
  type PartnerAccount,
  type PartnerHandle,
  type PartnerOptions,
  type PartnerUserSpec,
  type RuntimeChoice,
  type RuntimeKind,
  type S2sAuth,
  type S2sSecurity,
  type TlsMode,
} from './partner/types.js';
export { probeRuntimes, type RuntimeProbe } from './partner/runtime-choice.js';
export { XmppUser, bareOf, errorCondition, stanza, xml, type ConnectOptions, type Element, type ReceivedStanza, type StanzaMatcher } from './xmpp/client.js';
export { sendIm, subscribeAndApprove, type ImOutcome, type SubscriptionOutcome } from './xmpp/exchange.js';
export { probeStream, describeFeatures, type StreamProbeResult } from './xmpp/stream-probe.js';
export { TestCa, selfSignedCertificate, type CertificateOptions, type KeyAndCert } from './infra/pki.js';
export { TestDnsServer, type SrvRecord } from './infra/dns.js';
export { TeardownStack } from './infra/teardown.js';
export { EnvironmentError, StartupError, TimeoutError, XfedError, isUserError } from './errors.js';
