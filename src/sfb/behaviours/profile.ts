import { behaviours } from './behaviour.js';
import { ms, rfc, xep, xfedChoice } from './source.js';

const PROFILE_UNIT = 'test/unit/sfb/partner-profile.test.ts';
const EDGE_TEST = 'test/integration/sim-edge.test.ts';
const MATRIX_PAGE = 'Negotiation settings for XMPP federated partners in Lync Server 2013';

export const profileBehaviours = behaviours({
  'profile.cmdlet-defaults': {
    does: "A partner profile gets New-CsXmppAllowedPartner's defaults for what the suite leaves out: PartnerType PublicUnverified, TlsNegotiation Required, SaslNegotiation Required, SupportDialbackNegotiation $true, EnableKeepAlive $true; ConnectionLimit and ProxyFqdn have none.",
    sources: [
      ms('New-CsXmppAllowedPartner', 'The default value is PublicUnverified.'),
      ms('New-CsXmppAllowedPartner', 'Required (SASL negotiation must be supported) ... The default value is Required.'),
      ms('New-CsXmppAllowedPartner', 'Indicates whether dialback negotiation will be supported. ... The default value is True.'),
    ],
    provedBy: `${PROFILE_UNIT} › applies the cmdlet defaults`,
  },
  'profile.negotiation-matrix': {
    does: "The Edge offers a partner's streams exactly the authentication the negotiation matrix allows for its TlsNegotiation, SaslNegotiation and SupportDialbackNegotiation (STARTTLS required, offered or absent; SASL EXTERNAL; dialback over TLS or plain TCP), and refuses a stream that authenticates any other way.",
    sources: [
      ms(MATRIX_PAGE, 'Required | Required | True | SASL over TLS'),
      ms(MATRIX_PAGE, 'Not Supported | Not Supported | True | TCP Dialback'),
      xfedChoice("the matrix speaks of the partner's stream to the Edge; the Edge applies the same profile to its own streams to the partner"),
    ],
    provedBy:
      'test/integration/matrix.test.ts › every partner setting negotiates as SfB documents for TlsNegotiation and SaslNegotiation Optional with dialback',
  },
  'profile.tls-and-sasl-required-no-dialback': {
    does: 'With TlsNegotiation and SaslNegotiation both Required the Edge never offers dialback, whatever SupportDialbackNegotiation says: SASL EXTERNAL over TLS only.',
    sources: [ms(MATRIX_PAGE, 'Dialback will not operate if both SASL and TLS are required.')],
    provedBy: `${EDGE_TEST} › two allowed partners on one partner server: each stream follows its own partner's profile`,
  },
  'profile.no-authentication-refused': {
    does: 'A profile under which no stream could authenticate (SaslNegotiation NotSupported with SupportDialbackNegotiation $false) is refused, naming both parameters.',
    sources: [ms(MATRIX_PAGE, 'Not Valid Configuration | SASL or Dialback must be enabled.')],
    provedBy: `${PROFILE_UNIT} › names the reason an invalid profile is refused`,
  },
  'profile.sasl-needs-tls': {
    does: 'A profile with SaslNegotiation Required or Optional but TlsNegotiation NotSupported is refused, as the Control Panel refuses to save it; the matrix rows that list it as TCP dialback give way to that rule.',
    sources: [
      ms(
        'Create or edit XMPP partner configuration in Lync Server 2013',
        'When clicking Commit to save your changes, if you have not set TLS to required or optional, you will be warned that SASL must have TLS support and your changes are not saved.',
      ),
      ms(MATRIX_PAGE, 'Note that you cannot have Simple Authentication and Security Layer (SASL) unless Transport Layer Security (TLS) is also available.'),
    ],
    provedBy: `${PROFILE_UNIT} › refuses SASL Required or Optional without TLS, as the Control Panel does`,
  },
  'profile.sasl-external': {
    does: "SASL in a profile is SASL EXTERNAL with the partner's certificate (XEP-0178): offered only over TLS, and only to a partner whose certificate chains to a trusted CA and names its domain.",
    sources: [
      ms('New-CsXmppAllowedPartner', 'Indicates support for the Simple Authentication and Security Layer protocol, a protocol used for server authentication.'),
      xep(178),
      rfc(6120, '6'),
      xfedChoice('Microsoft names SASL, not the mechanism: between servers with certificates it is EXTERNAL (XEP-0178)'),
    ],
    provedBy: `${EDGE_TEST} › two allowed partners on one partner server: each stream follows its own partner's profile`,
  },
  'profile.per-partner-settings': {
    does: "Each allowed partner's TlsNegotiation, SaslNegotiation and SupportDialbackNegotiation apply to the streams with that partner's domains, in both directions; a domain on no partner's list gets the cmdlet's defaults until it is refused.",
    sources: [
      ms('New-CsXmppAllowedPartner', 'Indicates support for the Transport Layer Security protocol, a protocol used to encrypt server-to-server data streams.'),
      ms('New-CsXmppAllowedPartner', 'Additional XMPP domains belonging to the allowed partner.'),
    ],
    provedBy: `${EDGE_TEST} › two allowed partners on one partner server: each stream follows its own partner's profile`,
  },
  'profile.additional-domains': {
    does: "A partner's AdditionalDomains share its profile and its connections: its ConnectionLimit counts the streams of all its domains together.",
    sources: [ms('New-CsXmppAllowedPartner', 'Additional XMPP domains belonging to the allowed partner.')],
    provedBy: `${EDGE_TEST} › ConnectionLimit: a partner's domains share its connections, and one over the limit is refused`,
  },
  'profile.legacy-edge-tls-versions': {
    does: "The legacy Edge offers TLS 1.2, 1.1 and 1.0 on S2S, never 1.3: a partner with Prosody's defaults negotiates TLS 1.2, one that stops at TLS 1.1 negotiates 1.1. OpenSSL 3 refuses 1.0 and 1.1 at its default security level, so the Edge's TLS context runs at level 0.",
    sources: [
      ms(
        'Encryption for Skype for Business Server',
        'Skype for Business Server 2015 will offer TLS encryption protocols in the following order to clients: TLS 1.2 , TLS 1.1, TLS 1.0.',
      ),
      xfedChoice(
        "the cipher list is OpenSSL's HIGH set (AES, no 3DES): Windows' own list on a real Edge differs, and a partner negotiating TLS 1.2 meets an AEAD cipher either way",
      ),
    ],
    provedBy: `${EDGE_TEST} › the legacy Edge negotiates TLS 1.2 with a default partner and TLS 1.1 with one that stops there, never 1.3`,
  },
  'profile.partner-requires-tls-1-3': {
    does: 'A partner server that insists on TLS 1.3 cannot federate with the legacy Edge: the STARTTLS handshake fails on the protocol version, and its users\' stanzas to SfB users bounce with <remote-server-timeout/> ("Error during negotiation of encrypted connection: ... protocol version"), which the `s2s` check reports.',
    sources: [
      ms(
        'Encryption for Skype for Business Server',
        'Skype for Business Server 2015 will offer TLS encryption protocols in the following order to clients: TLS 1.2 , TLS 1.1, TLS 1.0.',
      ),
      rfc(6120, '5.4.3.2 (TLS failure)'),
    ],
    provedBy: 'test/integration/s2s-probe.test.ts › a partner that insists on TLS 1.3: the s2s check reports the failed handshake',
    partnerDependent:
      "the bounce is the partner server's own: Prosody answers remote-server-timeout because the Edge opened a stream before TLS failed (another server may say remote-server-not-found, or nothing)",
  },
  'profile.enable-keep-alive': {
    does: "With EnableKeepAlive $true the Edge sends a whitespace keep-alive on each stream with that partner once it has sent nothing for KeepAliveInterval; with $false it sends none (not even Prosody's own after 14 idle minutes) and does not close the partner's silent streams.",
    sources: [
      ms(
        'New-CsXmppAllowedPartner',
        'Indicates whether or not the XMPP partner should periodically transmit "keep alive" packets in order to verify that the connection is still active.',
      ),
      rfc(6120, '4.6.1 (whitespace keepalives)'),
      xfedChoice(
        'Microsoft does not say what a keep-alive is on the wire nor that the Edge sends its own: the Edge sends RFC 6120 whitespace keep-alives on the streams of such a partner, as it expects them from the partner',
      ),
    ],
    provedBy: `${EDGE_TEST} › EnableKeepAlive: whitespace keep-alives every KeepAliveInterval to a partner that has it, none to one that has not`,
  },
  'profile.connection-limit': {
    does: "A partner's ConnectionLimit caps the simultaneous S2S connections with all its domains (the gateway's PartnerConnectionLimit caps them too, the lower wins): a connection over it is closed with <resource-constraint/> when it tries to authenticate.",
    sources: [
      ms('New-CsXmppAllowedPartner', 'Specifies the maximum number of simultaneous connections allowed to a specific partner.'),
      rfc(6120, '4.9.3.17 (resource-constraint)'),
      xfedChoice(
        'the page gives no default (none: only PartnerConnectionLimit applies) and no refusal on the wire: the stream over the limit closed with resource-constraint before authentication, where a stream error would still reach the partner whole',
      ),
    ],
    provedBy: `${EDGE_TEST} › ConnectionLimit: a partner's domains share its connections, and one over the limit is refused`,
    partnerDependent:
      'what its users see is the partner server\'s answer to a stream closed with resource-constraint (Prosody bounces the stanza it had queued with remote-server-timeout, "Server-to-server connection failed: resource-constraint (...)")',
  },
  'profile.proxy-fqdn': {
    does: "ProxyFqdn is checked (a fully qualified domain name) and printed in the profile's cmdlet line, and changes nothing: the simulated Edge reaches every partner through its _xmpp-server SRV record.",
    sources: [
      ms('New-CsXmppAllowedPartner', 'Full qualified domain name of the proxy server used by the XMPP partner.'),
      xfedChoice(
        "Prosody 0.12 cannot connect to one domain at a host of the configuration's choosing (mod_s2s resolves _xmpp-server SRV for every domain, and the hook that builds the connection is internal), and the page does not say how the Edge uses the name",
      ),
    ],
    provedBy: `${PROFILE_UNIT} › takes ConnectionLimit and ProxyFqdn, prints them, and refuses bad values`,
  },
});
