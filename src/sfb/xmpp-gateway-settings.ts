import { z } from 'zod';
import { Duration, durationMs } from '../infra/format.js';

/**
 * The XMPP gateway's global settings (`Set-CsXmppGatewayConfiguration`, one global set for the
 * deployment), with the defaults its page documents. The Edge's XMPP proxy applies them to every
 * S2S stream with the allowed partners; the partner's own profile (New-CsXmppAllowedPartner)
 * says whether keep-alives are sent and may lower the connection limit.
 */
export interface XmppGatewaySettings {
  /** StreamInactivityTimeout: a stream that carries no stanza for this long is closed (600 s). */
  streamInactivityTimeoutMs: number;
  /** KeepAliveInterval: keep-alives on the streams of partners with EnableKeepAlive (300 s). */
  keepAliveIntervalMs: number;
  /** StreamEstablishmentTimeout: a stream not established by then is closed (60 s). */
  streamEstablishmentTimeoutMs: number;
  /** ConnectionLimit: simultaneous connections with all partners together (1000). */
  connectionLimit: number;
  /** PartnerConnectionLimit: simultaneous connections with one partner (20). */
  partnerConnectionLimit: number;
}

export const DEFAULT_XMPP_GATEWAY_SETTINGS: XmppGatewaySettings = {
  streamInactivityTimeoutMs: 600_000,
  keepAliveIntervalMs: 300_000,
  streamEstablishmentTimeoutMs: 60_000,
  connectionLimit: 1000,
  partnerConnectionLimit: 20,
};

const Limit = z.number().int().positive();

/** The settings as a suite writes them (`target.sim.gateway`): any of them, durations as `2s`, `500ms`, `10m`. */
export const XmppGatewaySettingsSpec = z
  .strictObject({
    streamInactivityTimeout: Duration.optional().describe('StreamInactivityTimeout: an S2S stream with no stanza for this long is closed (default 600s)'),
    keepAliveInterval: Duration.optional().describe(
      'KeepAliveInterval: keep-alives for partners with EnableKeepAlive, and silence that closes their streams (default 300s)',
    ),
    streamEstablishmentTimeout: Duration.optional().describe('StreamEstablishmentTimeout: an S2S stream not established by then is closed (default 60s)'),
    connectionLimit: Limit.optional().describe('ConnectionLimit: simultaneous S2S connections with all partners (default 1000)'),
    partnerConnectionLimit: Limit.optional().describe('PartnerConnectionLimit: simultaneous S2S connections with one partner (default 20)'),
  })
  .describe("Set-CsXmppGatewayConfiguration: the XMPP gateway's timers and limits, applied by the Edge's XMPP proxy");
export type XmppGatewaySettingsSpec = z.infer<typeof XmppGatewaySettingsSpec>;

export function resolveXmppGatewaySettings(spec: XmppGatewaySettingsSpec = {}): XmppGatewaySettings {
  const d = DEFAULT_XMPP_GATEWAY_SETTINGS;
  const ms = (v: Duration | undefined, fallback: number) => (v === undefined ? fallback : durationMs(v));
  return {
    streamInactivityTimeoutMs: ms(spec.streamInactivityTimeout, d.streamInactivityTimeoutMs),
    keepAliveIntervalMs: ms(spec.keepAliveInterval, d.keepAliveIntervalMs),
    streamEstablishmentTimeoutMs: ms(spec.streamEstablishmentTimeout, d.streamEstablishmentTimeoutMs),
    connectionLimit: spec.connectionLimit ?? d.connectionLimit,
    partnerConnectionLimit: spec.partnerConnectionLimit ?? d.partnerConnectionLimit,
  };
}

/** The connections one partner may hold: its profile's ConnectionLimit, within the gateway's PartnerConnectionLimit. */
export function partnerConnectionLimit(profile: { connectionLimit?: number | undefined }, settings: XmppGatewaySettings): number {
  return Math.min(profile.connectionLimit ?? Infinity, settings.partnerConnectionLimit);
}
