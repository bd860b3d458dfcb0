import type { BehaviourId } from '../../../sfb/behaviours/index.js';

/**
 * The Edge decides inside Prosody (docker/prosody/modules/mod_xfed_edge_policy.lua, and Prosody's
 * own lines at info level): each decision's log line says which catalogue behaviour it applied.
 */
const RULES: Array<[RegExp, BehaviourId[]]> = [
  [/xfed-edge: features for /, ['profile.per-partner-settings', 'profile.negotiation-matrix']],
  [
    /xfed-edge: refusing the \w+ stream (with|to) .*(TLS is required|Encrypted|[Dd]ialback|SASL)/,
    ['profile.per-partner-settings', 'profile.negotiation-matrix'],
  ],
  [/xfed-edge: refusing .*\(ConnectionLimit of the partner\)/, ['profile.connection-limit']],
  [/xfed-edge: refusing .*\(PartnerConnectionLimit\)/, ['gateway.partner-connection-limit']],
  [/xfed-edge: refusing .*: ConnectionLimit \d+ reached/, ['gateway.connection-limit']],
  [/xfed-edge: keep-alive to /, ['profile.enable-keep-alive', 'gateway.keep-alive-interval']],
  [/xfed-edge: closing .*\(KeepAliveInterval\)/, ['gateway.keep-alive-interval']],
  [/xfed-edge: closing .*\(StreamInactivityTimeout\)/, ['gateway.stream-inactivity-timeout']],
  [/xfed-edge: TLS with .* failed/, ['profile.legacy-edge-tls-versions']],
  // mod_s2s closes a stream not established within s2s_timeout with exactly this reason.
  [/s2s stream .* closed: connection-timeout$/, ['gateway.stream-establishment-timeout']],
  [/Stream encrypted \(TLSv1(\.[0-2])? /, ['profile.legacy-edge-tls-versions']],
];

export function citesOfEdgeLog(line: string): BehaviourId[] {
  return RULES.filter(([pattern]) => pattern.test(line)).flatMap(([, ids]) => ids);
}
