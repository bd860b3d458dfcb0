import { behaviours } from './behaviour.js';
import { ms, rfc, xfedChoice } from './source.js';

const MIGRATION_TEST = 'test/integration/sim-migration.test.ts';
const POOLS_TEST = 'test/integration/sim-edge-pools.test.ts';

export const edgeBehaviours = behaviours({
  // Federation routes and the Access Edge (the migration's "Configure federation routes and media traffic").
  'edge.xmpp-federation-route': {
    does: "The site's XMPP federation route starts through the legacy Edge. Routed through the 2019 Edge (which has no XMPP proxy) or disabled, the legacy pool's XMPP gateway has no XMPP proxy to go through and no legacy Edge pool listens for XMPP (edge.xmpp-pool): partners' connections are refused (remote-server-not-found) and SfB users' IMs to partners get 503 from the gateway; routed through the legacy Edge again, its pool listens, the gateway attaches and federation resumes.",
    sources: [
      ms(
        'Configure federation routes and media traffic',
        'If your XMPP federation is routed through a Skype for Business Server 2019 Edge Server, users on the previous version will not be able to communicate with the XMPP federated partner',
      ),
      ms(
        'Federation Route Settings Expander (Topology Builder)',
        'Enable XMPP federation Select this option to enable an XMPP federation route, and then select a Director or Edge pool as the federation route.',
      ),
      ms('Set-CsSite', 'Service Identity of the Edge Server used for XMPP (Extensible Messaging and Presence Protocol) federation.'),
      xfedChoice(
        "Microsoft gives the outcome, not the wire: the legacy Edge's XMPP listener closes, as Microsoft's troubleshooting ties it to the XMPP route, and the gateway cut off from the XMPP proxy answers 503 (RFC 3261 section 21.5.4)",
      ),
    ],
    provedBy: `${MIGRATION_TEST} › the XMPP federation route through the 2019 Edge, or none, cuts the legacy pool off XMPP both ways; back through the legacy Edge, it works`,
  },
  'edge.sip-federation-route': {
    does: "The site's SIP federation route moved to the 2019 Edge, as the migration guide does, or disabled, changes nothing for XMPP: XMPP partners come and go through the XMPP federation route and the legacy Edge's XMPP proxy.",
    sources: [
      ms(
        'Configure federation routes and media traffic',
        'Under Site federation route assignment, select Enable SIP federation, and then from the list select the Skype for Business Server 2019 Edge Server listed.',
      ),
      ms(
        'Federation Route Settings Expander (Topology Builder)',
        'Enable SIP federation Select this option to enable a SIP federation route, and then select a Director or Edge pool as the federation route.',
      ),
      ms('Migrating XMPP federation', 'you can have coexistence of the legacy Edge Server (with XMPP Proxy) and the Skype for Business 2019 Edge Server.'),
    ],
    provedBy: `${MIGRATION_TEST} › the SIP federation route moved to the 2019 Edge, or disabled, leaves XMPP working both ways`,
  },
  'edge.allow-federated-users': {
    does: 'AllowFederatedUsers starts $true, as a deployment set up for XMPP federation has it. Set $false, the legacy Edge refuses every partner\'s S2S stream right after it authenticates (policy-violation, "AllowFederatedUsers $false" in its log), both ways; set $true again, federation resumes.',
    sources: [
      ms(
        'Example XMPP configuration - federation with Google Talk',
        'To enable Edge Federation, type the following: Set-CsAccessEdgeConfiguration -AllowFederatedUsers $true',
      ),
      ms(
        'Set-CsAccessEdgeConfiguration',
        'Indicates whether internal users are allowed to communicate with users from federated domains. ... The default value is False.',
      ),
      rfc(6120, '4.9.3.12 (policy-violation)'),
      xfedChoice(
        "the simulated deployment starts as the XMPP setup pages leave it (AllowFederatedUsers $true, though the cmdlet's default is False); how the refusal shows on the wire is undocumented: the same stream refusal as for a partner off the allowed list",
      ),
    ],
    provedBy: `${MIGRATION_TEST} › AllowFederatedUsers $false refuses every partner stream, both ways; $true again, it works`,
  },
  'edge.access-edge-service': {
    does: "The legacy Access Edge service stopped, as the migration guide has it, ends SIP federation through the legacy Edge only: the Edge's XMPP proxy is a service of its own and keeps XMPP federation working; started again, nothing changes for XMPP.",
    sources: [
      ms(
        'Configure federation routes and media traffic',
        'find Skype for Business Server Access Edge ... select Stop to stop the service. Set the Startup type to Disabled.',
      ),
      ms(
        'Setting up XMPP federation in Lync Server 2013',
        'In Services, locate Lync Server XMPP Translating Gateway Proxy. The service should be in the Started state.',
      ),
      ms('Migrating XMPP federation', 'you can have coexistence of the legacy Edge Server (with XMPP Proxy) and the Skype for Business 2019 Edge Server.'),
      xfedChoice(
        'Microsoft does not say whether the XMPP proxy depends on the Access Edge service; it is a service of its own, and if stopping the Access Edge took XMPP down, the migration guide would end the coexistence Microsoft recommends for XMPP',
      ),
    ],
    provedBy: `${MIGRATION_TEST} › the legacy Access Edge service stopped leaves XMPP working: the XMPP proxy is a service of its own`,
  },
  'edge.xmpp-proxy-service': {
    does: "The legacy Edge's XMPP Translating Gateway Proxy service stopped: the Edge's XMPP listener closes, so partners cannot connect and the gateway has no proxy to go through; started, both come back.",
    sources: [
      ms(
        'Setting up XMPP federation in Lync Server 2013',
        'In Services, locate Lync Server XMPP Translating Gateway Proxy. The service should be in the Started state.',
      ),
      ms('Port summary - XMPP federation in Lync Server 2013', 'Standard server-to-server communication port for XMPP.'),
    ],
    provedBy: `${MIGRATION_TEST} › the XMPP Translating Gateway Proxy service stopped closes the legacy Edge to partners; started, it works`,
  },
  // Edge pools, SRV records, SIP domains and the certificate ("Setting up XMPP federation",
  // "Failing over the Edge pool used for XMPP federation", "Certificate summary - XMPP federation").
  'edge.srv-record': {
    does: "For every SIP domain enabled for XMPP, the test DNS publishes `_xmpp-server._tcp.<domain>` SRV records naming each Edge pool's Access Edge (`<pool>.<primary domain>`, with its A record) and, as the port, the pool's public XMPP listener; partners resolve and connect the real way.",
    sources: [
      ms(
        'Setting up XMPP federation in Lync Server 2013',
        'you add the following SRV record to external DNS:_xmpp-server._tcp.<domain name> The SRV record will resolve to the access edge FQDN of the Edge server, with a port value of 5269.',
      ),
      rfc(6120, '3.2.1'),
      xfedChoice(
        "the port is not 5269: the sim's listeners share one test host and the port tells them apart; the separate 'A' host record for XMPP (xmpp.contoso.com) is not published, as partners follow the SRV records and in the sim it could name no other address",
      ),
    ],
    provedBy: `${POOLS_TEST} › publishes one _xmpp-server._tcp SRV record per Edge pool with its priority, in every SIP domain; the dns check lists them in the order partners try them`,
  },
  'edge.srv-priorities': {
    does: 'Each Edge pool given a priority (target.sim.edgePools) has its own SRV record in every SIP domain, each pool a different priority (the validator refuses two alike); the partner tries them lowest first and the next when a connection is refused. The edge-pool step changes a priority or removes a record.',
    sources: [
      ms(
        'Setting up XMPP federation in Lync Server 2013',
        'Add a SRV record for every Edge pool in your organization, and give each of those SRV records a different priority.',
      ),
      ms('Failing over the Edge pool used for Lync Server 2013 XMPP federation', 'Each of these SRV records must have a different priority set.'),
      rfc(6120, '3.2.1'),
    ],
    provedBy: `${POOLS_TEST} › the pool on the XMPP route down: the partner tries the next SRV record, which refuses it too, and SfB users get 503, until XMPP federation fails over`,
    partnerDependent:
      'Prosody tries the SRV targets in priority order and moves on to the next when a connection fails, as RFC 6120 section 3.2.1 describes; another server may give up after the first',
  },
  'edge.xmpp-pool': {
    does: "Only the Edge pool on the site's XMPP federation route (the first pool listed, until a failover) listens for XMPP; the other pools refuse partners' connections (all of them, while the route goes through the 2019 Edge or none), and the legacy pool's XMPP gateway goes through that pool's proxy only. One Edge Prosody serves as the proxy of whichever pool is on the route.",
    sources: [
      ms(
        'Failing over the Edge pool used for Lync Server 2013 XMPP federation',
        'In your organization, there is one Edge pool designated as the pool to use for XMPP federation.',
      ),
      ms(
        'Setting up XMPP federation in Lync Server 2013',
        'review to confirm that the Site federation route assignment for XMPP federation shows your Edge Server or Edge pool as the selected XMPP federation route assignment',
      ),
      xfedChoice(
        "xfed's reading: Microsoft's troubleshooting ties the Edge listening on 5269 and 23456 to the XMPP federation route, and the failover procedure opens 5269 on the new pool and restarts its services, so a pool off the route is simulated as one whose XMPP listener is closed",
      ),
    ],
    provedBy: `${POOLS_TEST} › only the pool on the XMPP federation route listens: the partner reaches it by the first SRV record`,
  },
  'edge.pool-down': {
    does: "An Edge pool down (the edge-pool step) refuses partners' connections; on the XMPP federation route, it takes the gateway's XMPP proxy with it: partners move on to the next SRV record, which refuses them as its pool is off the route (remote-server-not-found), and SfB users' IMs get 503, until XMPP federation fails over. Back up, a pool listens only if it is on the route.",
    sources: [
      ms(
        'Failing over the Edge pool used for Lync Server 2013 XMPP federation',
        'If this pool goes down, you must fail over XMPP federation to use a different Edge pool before XMPP federation can work again.',
      ),
      xfedChoice("how a pool fails is the sim's: its listener closes, as a host that is down refuses connections"),
    ],
    provedBy: `${POOLS_TEST} › the pool on the XMPP route down: the partner tries the next SRV record, which refuses it too, and SfB users get 503, until XMPP federation fails over`,
    partnerDependent: 'remote-server-not-found is how Prosody reports that no SRV target took the connection; another partner server may say it otherwise',
  },
  'edge.xmpp-failover': {
    does: "Failing XMPP federation over (the xmpp-failover step) moves the site's XMPP federation route to another pool (back to the legacy Edge if it had gone to the 2019 Edge or none): that pool listens for XMPP, the one before stops, and the gateway reconnects through it; a pool without an SRV record gets one, first in priority, while the other records stay. A pool that comes back after a failover stays off the route: partners are refused there and go on to the next record.",
    sources: [
      ms('Failing over the Edge pool used for Lync Server 2013 XMPP federation', 'Set-CsSite Site2 -XmppExternalFederationRoute EdgeServer2.contoso.com'),
      ms('Set-CsSite', 'Service Identity of the Edge Server used for XMPP (Extensible Messaging and Presence Protocol) federation.'),
      ms(
        'Setting up XMPP federation in Lync Server 2013',
        'but if that Edge pool goes down you won’t then have to add a new SRV record to regain XMPP federation functionality',
      ),
      xfedChoice(
        "the procedure's change of 'the DNS A record for XMPP federation' has no counterpart (the sim publishes no such record); an added SRV record gets the first priority, as 'All XMPP federation traffic goes through the pool with the SRV record with the highest priority'",
      ),
    ],
    provedBy: `${POOLS_TEST} › failing XMPP federation over to edge-b (Set-CsSite -XmppFederationRoute) restores it both ways, by the SRV record edge-b already had`,
  },
  'edge.sip-domains': {
    does: 'Several SIP domains can be enabled for XMPP (target.sim.additionalDomains): each has its own SRV records, its own component on the Edge and its own component connection from the gateway, which maps JIDs of each domain to SIP URIs of the same domain; an SfB user is in one of them (default the primary) and is found in his own domain only.',
    sources: [
      ms(
        'Certificate summary - XMPP federation in Lync Server 2013',
        'The record that is included on the certificate as a subject alternative name (SAN) will be the domain that can participate in XMPP communications.',
      ),
      ms('Setting up XMPP federation in Lync Server 2013', '_xmpp-server._tcp.<domain name>'),
      rfc(7247, '6.4 and 6.5'),
      xfedChoice(
        'a component and a gateway connection per domain: XEP-0114 binds a component connection to one domain, and how SfB wires its gateway per domain is undocumented',
      ),
    ],
    provedBy: `${POOLS_TEST} › a user of another SIP domain is reached at his own domain, both ways`,
  },
  'edge.bare-domain-san': {
    does: "The Edge certificate carries each XMPP-enabled SIP domain as a SAN (and its wildcard). A renewal without one domain's bare-domain SAN (renew-certificate missing-bare-domain-san with that domain) lists only `*.<domain>` and `sip.<domain>` for it, which do not cover the domain, and breaks TLS with partners for that domain only; without a domain, for every domain.",
    sources: [
      ms(
        'Certificate summary - XMPP federation in Lync Server 2013',
        'The contoso.com is the entry required for federation with the XMPP partner at the root domain level.',
      ),
      ms(
        'Setting up XMPP federation in Lync Server 2013',
        'If the XMPP proxy is installed, by default the domain name (such as contoso.com) is populated in the SAN entries.',
      ),
      rfc(6125, '6.4.3'),
    ],
    provedBy: `${POOLS_TEST} › a certificate renewed without one SIP domain's bare-domain SAN breaks federation for that domain only`,
    partnerDependent: "what the partner user sees (remote-server-timeout with Prosody's text) is the partner server's report of the failed certificate check",
  },
  'edge.certificate-invalid': {
    does: "A renewed Edge certificate that has expired or comes from a CA the partner does not trust (renew-certificate expired or untrusted-ca) fails the partner's certificate check: no stream is established, both ways, until a valid one is back.",
    sources: [
      ms('Certificate summary - XMPP federation in Lync Server 2013', 'The Access Edge service external interface certificate must be issued by a public CA'),
      rfc(6120, '13.7.2 (certificate validation)'),
    ],
    provedBy: 'test/integration/sim-migration.test.ts › a renewed Edge certificate that is %s fails verification: remote-server-timeout, "certificate %s"',
    partnerDependent: "what the partner user sees (remote-server-timeout with Prosody's text) is the partner server's report of the failed certificate check",
  },
});
