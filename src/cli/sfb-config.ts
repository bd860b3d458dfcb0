import { loadSuite } from '../scenario/loader.js';
import { DEFAULT_XMPP_ACCESS } from '../sfb/deployment.js';
import { describeProfileCommand, psString } from '../sfb/partner-profile.js';
import { EXIT } from './output.js';

/**
 * `xfed sfb-config FILE`: the SfB Management Shell commands, DNS records and certificate notes
 * that configure a lab's legacy deployment for the suite: the way the simulated side is set up
 * (a sim suite), or what a real Edge needs so that xfed's partner federates with it (a gateway suite).
 */
export async function runSfbConfig(file: string): Promise<number> {
  const { suite } = await loadSuite(file);
  const { target, sfbDomain: domain, partnerProfile: profile } = suite;
  const primary = suite.partner.domains[0];
  const xmppUsers =
    target.kind === 'sim'
      ? target.sim.users.filter((u) => u.pool === 'legacy' && (u.xmppAccess ?? DEFAULT_XMPP_ACCESS)).map((u) => u.name)
      : target.gateway.users.map((u) => u.name);
  const lines = [
    `# xfed sfb-config ${file}: suite ${suite.name} (${target.kind === 'sim' ? 'the simulated side' : 'a real legacy Edge'})`,
    '# Run in the Skype for Business Server Management Shell of the legacy (2015/2013) deployment.',
    '',
    '# Federation on the Access Edge (the XMPP proxy is a role of the legacy Edge only).',
    'Set-CsAccessEdgeConfiguration -AllowFederatedUsers $true',
    '',
    `# The XMPP partner${target.kind === 'sim' ? ', as the suite simulates it' : ' xfed runs'}.`,
    describeProfileCommand(profile),
    '',
    '# External access: only users homed on the legacy pool can use XMPP.',
    'New-CsExternalAccessPolicy -Identity "XmppUsers" -EnableFederationAccess $true -EnableXmppAccess $true',
    ...xmppUsers.map((u) => `Grant-CsExternalAccessPolicy -Identity ${psString(`${u}@${domain}`)} -PolicyName "XmppUsers"`),
    '',
  ];
  if (target.kind === 'sim') {
    lines.push(
      '# DNS (public zone of the SfB domain): the XMPP SRV record points at the legacy Access Edge.',
      `_xmpp-server._tcp.${domain}. 3600 IN SRV 0 5 5269 <legacy-access-edge-fqdn>.`,
      '# The partner must publish its own, for dialback and for the Edge to reach it:',
      ...suite.partner.domains.map((d) => `_xmpp-server._tcp.${d}. 3600 IN SRV 0 5 5269 <partner-xmpp-server-fqdn>.`),
      '',
      '# Certificates: the Access Edge external certificate must list the bare domain as a SAN.',
      `#   SAN: ${domain} (and the Edge FQDNs); the partner must trust its issuing CA.`,
      `#   Firewall: TCP 5269 in and out on the Edge external side; TCP 23456 from the pool to the Edge internal side.`,
    );
  } else {
    const g = target.gateway;
    const listenPort = g.listen.port ?? 5269;
    const edge = g.edge ? `${g.edge.host}.`.replace(/\.\.$/, '.') : '<legacy-access-edge-fqdn>.';
    lines.push(
      `# DNS the Edge resolves with${g.resolver ? ` (xfed asks ${g.resolver.host}:${g.resolver.port ?? 53} too)` : ''}: the SfB domain's XMPP SRV record points at the legacy Access Edge.`,
      `_xmpp-server._tcp.${domain}. 3600 IN SRV 0 5 ${g.edge?.port ?? 5269} ${edge}`,
      "# xfed's partner listens for the Edge on the address the suite gives (target.gateway.listen):",
      ...suite.partner.domains.flatMap((d) => [
        `_xmpp-server._tcp.${d}. 300 IN SRV 0 5 ${listenPort} xfed-partner.${d}.`,
        `xfed-partner.${d}. 300 IN A ${g.listen.host}`,
      ]),
      '',
      '# Certificates:',
      `#   The Access Edge external certificate must list ${domain} as a SAN; xfed trusts ${g.ca ? `the CAs in ${g.ca}` : "the system's roots (set target.gateway.ca for a lab CA)"}.`,
      g.certificate
        ? `#   The partner presents ${g.certificate.cert} for ${primary}: the Edge must trust its issuing CA (import it into the Edge's Trusted Root store).`
        : `#   The partner's certificate is issued by a new xfed CA at every run, which the Edge cannot trust: for SASL EXTERNAL (SaslNegotiation Required), give target.gateway.certificate from your lab CA; otherwise allow dialback (-SaslNegotiation NotSupported -SupportDialbackNegotiation $true).`,
      `#   Firewall: the Edge's external side must reach ${g.listen.host}:${listenPort} (TCP), and this machine the Edge on TCP ${g.edge?.port ?? 5269}.`,
      '',
      '# Test users: homed on the legacy pool, XMPP access granted above.',
      ...g.users.map(
        (u) =>
          `#   ${u.name}@${domain}: ${u.role === 'echo' ? 'answers IMs with their text and accepts subscriptions' : u.role === 'accept' ? 'accepts subscriptions' : 'does nothing'}${u.login ? `; xfed logs in as this user (password from $${u.login.passwordEnv})` : ' (a bot of the lab does this)'}`,
      ),
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}
