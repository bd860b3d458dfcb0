import { describe, expect, it } from '@jest/globals';
import {
  DEFAULT_XMPP_GATEWAY_SETTINGS,
  XmppGatewaySettingsSpec,
  partnerConnectionLimit,
  resolveXmppGatewaySettings,
} from '../../../src/sfb/xmpp-gateway-settings.js';

describe('Set-CsXmppGatewayConfiguration settings', () => {
  it('applies the documented defaults', () => {
    expect(resolveXmppGatewaySettings()).toEqual({
      streamInactivityTimeoutMs: 600_000,
      keepAliveIntervalMs: 300_000,
      streamEstablishmentTimeoutMs: 60_000,
      connectionLimit: 1000,
      partnerConnectionLimit: 20,
    });
  });

  it('reads durations as a suite writes them and keeps the defaults for the rest', () => {
    const spec = XmppGatewaySettingsSpec.parse({ streamInactivityTimeout: '2s', keepAliveInterval: 500, partnerConnectionLimit: 3 });
    expect(resolveXmppGatewaySettings(spec)).toEqual({
      ...DEFAULT_XMPP_GATEWAY_SETTINGS,
      streamInactivityTimeoutMs: 2000,
      keepAliveIntervalMs: 500,
      partnerConnectionLimit: 3,
    });
  });

  it('refuses unknown keys, zero limits and malformed durations', () => {
    expect(XmppGatewaySettingsSpec.safeParse({ streamInactivityTimout: '2s' }).success).toBe(false);
    expect(XmppGatewaySettingsSpec.safeParse({ connectionLimit: 0 }).success).toBe(false);
    expect(XmppGatewaySettingsSpec.safeParse({ keepAliveInterval: '2 minutes' }).success).toBe(false);
  });

  it("takes the lower of a partner's ConnectionLimit and PartnerConnectionLimit", () => {
    const settings = resolveXmppGatewaySettings({ partnerConnectionLimit: 5 });
    expect(partnerConnectionLimit({}, settings)).toBe(5);
    expect(partnerConnectionLimit({ connectionLimit: 2 }, settings)).toBe(2);
    expect(partnerConnectionLimit({ connectionLimit: 50 }, settings)).toBe(5);
  });
});
