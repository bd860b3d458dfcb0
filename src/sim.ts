// 'xfed/sim': the parts the simulated legacy SfB side is built from, for tests of the simulation
// itself and for building other topologies. Suites and most Jest tests need only 'xfed'.
export { LegacyEdge, type LegacyEdgeOptions } from './targets/sim/edge/legacy-edge.js';
export { XmppSipGateway, type XmppSipGatewayOptions } from './targets/sim/gateway/xmpp-sip-gateway.js';
export { SIP_MESSAGE_LIMIT } from './targets/sim/gateway/im.js';
export { SipPool } from './targets/sim/pool/pool.js';
export type { SipUserEvent } from './targets/sim/pool/user-event.js';
export { SfbDirectory, type SfbUserSpec, type UserBehaviour } from './targets/sim/pool/directory.js';
export { SimDeployment } from './targets/sim/migration.js';
export { EdgeLink } from './targets/sim/edge-link.js';
export { jidToSipUri, sipUriToJid } from './targets/sim/mapping/address.js';
export { sipStatusToStanzaError, stanzaErrorToSipStatus } from './targets/sim/mapping/errors.js';
