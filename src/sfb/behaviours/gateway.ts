import { behaviours } from './behaviour.js';
import { ms, rfc, xfedChoice } from './source.js';

const EDGE_TEST = 'test/integration/sim-edge.test.ts';
const GATEWAY_CONFIG = 'Set-CsXmppGatewayConfiguration';
const PORTS = 'Port summary - XMPP federation in Lync Server 2013';

export const gatewayBehaviours = behaviours({
  // Set-CsXmppGatewayConfiguration: one global set, applied by the Edge's XMPP proxy to every partner stream.
  'gateway.stream-inactivity-timeout': {
    does: 'An S2S stream that carried no stanza either way for StreamInactivityTimeout (600 s unless the suite sets `target.sim.gateway`) is closed by the Edge, plainly (no stream error), so what the partner sent before it saw the close is still read; the next stanza opens a new stream, with DNS, TLS and authentication again.',
    sources: [
      ms(
        GATEWAY_CONFIG,
        'Maximum amount of time (in seconds) that an XMPP stream can be inactive before the connection is automatically terminated. The default value is 600 seconds (10 minutes).',
      ),
      rfc(6120, '4.4 (closing a stream)'),
      xfedChoice(
        'inactive means no stanza (keep-alives do not count, or they would keep every stream alive), and the page does not say how the stream ends: a plain close, as a connection-timeout stream error would make Prosody drop stanzas already on the way',
      ),
    ],
    provedBy: `${EDGE_TEST} › StreamInactivityTimeout: an idle stream is closed, and the next IM is delivered on a new stream`,
  },
  'gateway.keep-alive-interval': {
    does: "On the streams of a partner with EnableKeepAlive, KeepAliveInterval (300 s by default) paces the Edge's whitespace keep-alives, and a stream on which the partner sent nothing at all for that long is closed (a plain close, RFC 6120 section 4.4).",
    sources: [
      ms(
        GATEWAY_CONFIG,
        'Maximum amount of time (in seconds) that can elapse before the partner must send a "keep alive" message. ... If the time interval expires before a keep alive message is received, the connection will be closed. The default value is 300 seconds.',
      ),
      xfedChoice('any byte from the partner (a stanza or whitespace) counts as its keep-alive'),
    ],
    provedBy: `${EDGE_TEST} › KeepAliveInterval: a stream on which the partner sends nothing for that long is closed`,
    partnerDependent:
      "a partner server that sends no keep-alives of its own has its idle streams closed after KeepAliveInterval (Prosody sends whitespace only after 14 minutes without reading, and the Edge's keep-alives reset that clock); its next stanza opens a new stream",
  },
  'gateway.stream-establishment-timeout': {
    does: 'A stream not established (authenticated) within StreamEstablishmentTimeout (60 s by default) is closed with <connection-timeout/>, in either direction.',
    sources: [
      ms(
        GATEWAY_CONFIG,
        'Maximum amount of time (in seconds) allotted for the XMPP partner to establish an XMPP stream. If this timeout period is surpassed the connection will automatically be terminated. The default value is 60 seconds.',
      ),
      rfc(6120, '4.9.3.4 (connection-timeout)'),
    ],
    provedBy: `${EDGE_TEST} › StreamEstablishmentTimeout: a stream not established in time is closed with connection-timeout`,
  },
  'gateway.connection-limit': {
    does: "The Edge holds at most ConnectionLimit (1000 by default) authenticated S2S connections with all partners together, in both directions: one more is closed with <resource-constraint/> when it tries to authenticate (the Edge's own, before it does).",
    sources: [
      ms(GATEWAY_CONFIG, 'Total number of simultaneous connections allowed for all XMPP partners. The default value is 1000.'),
      rfc(6120, '4.9.3.17 (resource-constraint)'),
      xfedChoice(
        'the page does not say how a connection over the limit is refused: the stream is closed with resource-constraint once its partner is known, before authentication',
      ),
    ],
    provedBy: `${EDGE_TEST} › PartnerConnectionLimit and ConnectionLimit: connections over either are refused`,
  },
  'gateway.partner-connection-limit': {
    does: "The Edge holds at most PartnerConnectionLimit (20 by default) connections with one partner's domains, or the partner's own ConnectionLimit if lower: one more is closed with <resource-constraint/> when it tries to authenticate.",
    sources: [
      ms(GATEWAY_CONFIG, 'Total number of simultaneous connections allowed for a single XMPP partner. The default value is 20.'),
      rfc(6120, '4.9.3.17 (resource-constraint)'),
    ],
    provedBy: `${EDGE_TEST} › PartnerConnectionLimit and ConnectionLimit: connections over either are refused`,
  },
  // The Front End's XMPP gateway and the Edge's XMPP proxy: XMPP over MTLS on TCP 23456.
  'gateway.internal-hop-mtls': {
    does: "The legacy pool's XMPP gateway reaches the Edge's XMPP proxy through the Edge's internal interface (its own port, standing for TCP 23456) with mutual TLS: the Edge presents its internal certificate (from the internal CA, not the public Edge certificate), TLS 1.2 at most, and refuses a client without the Front End's certificate.",
    sources: [
      ms(
        PORTS,
        'XMPP/MTLS/23456 | Any | Internal Edge Server Interface IP | Internal XMPP traffic from the XMPP Gateway on the Front End Server or Front End pool to the Edge Server',
      ),
      ms('Encryption for Skype for Business Server', 'All server-to-server traffic requires MTLS'),
      xfedChoice(
        "the internal CA and the names (edge-internal.<domain>, fe-legacy.<domain>) are the simulation's; behind the interface the stream is XEP-0114 to the proxy",
      ),
    ],
    provedBy: `${EDGE_TEST} › the gateway attaches through the internal interface with MTLS, and a client without the Front End certificate is refused`,
  },
  'gateway.internal-hop-certificate': {
    does: "An Edge internal certificate that has expired, or comes from a CA the Front End does not trust, keeps the gateway out: partners' stanzas to SfB users get <remote-server-timeout/> (\"Component unavailable\") from the Edge's proxy, SfB users' IMs to partners get 503 from the gateway; with a valid one again the gateway attaches and federation resumes.",
    sources: [
      ms('Encryption for Skype for Business Server', 'All server-to-server traffic requires MTLS'),
      ms(
        PORTS,
        'XMPP/MTLS/23456 | Any | Internal Edge Server Interface IP | Internal XMPP traffic from the XMPP Gateway on the Front End Server or Front End pool to the Edge Server',
      ),
      xfedChoice(
        "Microsoft does not say what each side answers: the partner gets the simulated proxy's (Prosody's) answer for a component that is not connected, the SfB user the gateway's 503 (RFC 3261 section 21.5.4)",
      ),
    ],
    provedBy: `${EDGE_TEST} › an expired or untrusted internal certificate keeps the gateway out until a valid one is back`,
    partnerDependent: "the partner's error is the Edge proxy's as Prosody words it; what a partner server makes of it is its own",
  },
  'gateway.internal-hop-port': {
    does: "An internal firewall blocking TCP 23456 from the Front End to the Edge drops the gateway's connection and refuses new ones, with the same errors both ways as above, until the port opens again.",
    sources: [
      ms(
        PORTS,
        'XMPP/MTLS/23456 | Any | Internal Edge Server Interface IP | Internal XMPP traffic from the XMPP Gateway on the Front End Server or Front End pool to the Edge Server',
      ),
      ms(
        'Setting up XMPP federation in Lync Server 2013',
        'If XMPP is correctly configured, the result of the commands should result in listening and established connections, both on the external (port 5269) and the internal (port 23456) interfaces of the Edge Server.',
      ),
      xfedChoice('blocked is a reject rule (connections refused at once), not a drop, where they would wait for a timeout'),
    ],
    provedBy: `${EDGE_TEST} › a blocked TCP 23456 keeps the gateway out until the port opens again`,
  },
});
