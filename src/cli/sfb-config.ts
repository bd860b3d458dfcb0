import { loadSuite } from '../scenario/loader.js';
import { describeProfileCommand, psString, resolvePartnerProfile } from '../targets/sim/mapping/partner-profile.js';
import { EXIT } from './output.js';

/**
 * `xfed sfb-config FILE`: the SfB Management Shell commands and DNS records that configure a lab's
 * legacy deployment the way the suite's simulated side is configured, so both can be compared.
 */
export async function runSfbConfig(file: string): Promise<number> {
  const { suite } = await loadSuite(file);
  const sim = suite.target.sim;
  const [primary, ...additional] = suite.partner.domains;
  const profile = resolvePartnerProfile({ domain: primary!, additionalDomains: additional, ...sim.partner });
  const xmppUsers = sim.users.filter((u) => u.pool === 'legacy' && u.xmppAccess !== false);
  const lines = [
    `# xfed sfb-config ${file}: suite ${suite.suite}`,
    '# Run in the Skype for Business Server Management Shell of the legacy (2015/2013) deployment.',
    '',
    '# Federation on the Access Edge (the XMPP proxy is a role of the legacy Edge only).',
    'Set-CsAccessEdgeConfiguration -AllowFederatedUsers $true',
    '',
    '# The XMPP partner, as the suite simulates it.',
    describeProfileCommand(profile),
    '',
    '# External access: only users homed on the legacy pool can use XMPP.',
    'New-CsExternalAccessPolicy -Identity "XmppUsers" -EnableFederationAccess $true -EnableXmppAccess $true',
    ...xmppUsers.map((u) => `Grant-CsExternalAccessPolicy -Identity ${psString(`${u.name}@${sim.domain}`)} -PolicyName "XmppUsers"`),
    '',
    '# DNS (public zone of the SfB domain): the XMPP SRV record points at the legacy Access Edge.',
    `_xmpp-server._tcp.${sim.domain}. 3600 IN SRV 0 5 5269 <legacy-access-edge-fqdn>.`,
    '# The partner must publish its own, for dialback and for the Edge to reach it:',
    ...suite.partner.domains.map((d) => `_xmpp-server._tcp.${d}. 3600 IN SRV 0 5 5269 <partner-xmpp-server-fqdn>.`),
    '',
    '# Certificates: the Access Edge external certificate must list the bare domain as a SAN.',
    `#   SAN: ${sim.domain} (and the Edge FQDNs); the partner must trust its issuing CA.`,
    `#   Firewall: TCP 5269 in and out on the Edge external side; TCP 23456 from the pool to the Edge internal side.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}
