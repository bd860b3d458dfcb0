import { loadSuite, type VariableSources } from '../scenario/loader.js';
import { durationMs } from '../infra/format.js';
import { DEFAULT_EDGE_POOL, xmppAccessOf } from '../sfb/deployment.js';
import { describeProfileCommand, psString } from '../sfb/partner-profile.js';
import type { XmppGatewaySettingsSpec } from '../sfb/xmpp-gateway-settings.js';
import type { SimSpec } from '../targets/sim/spec.js';
import { EXIT } from './output.js';

/**
 * `xfed sfb-config FILE`: the SfB Management Shell commands, Topology Builder settings, DNS records
 * and certificate notes that configure a lab's legacy deployment for the suite: the way the
 * simulated side starts (a sim suite), or what a real Edge needs so that xfed's partner federates
 * with it (a gateway suite). What it prints is what the simulation enforces: the XMPP federation
 * route through the legacy Edge, AllowFederatedUsers, and EnableXmppAccess (default False) granted.
 */
export async function runSfbConfig(file: string, variables: VariableSources = {}): Promise<number> {
  const { suite } = await loadSuite(file, variables);
  const { target, sfbDomain: domain, partnerProfile: profile } = suite;
  const primary = suite.partner.domains[0];
  const sip = (name: string, userDomain?: string) => psString(`${name}@${userDomain ?? domain}`);
  const lines = [
    `# xfed sfb-config ${file}: suite ${suite.name} (${target.kind === 'sim' ? 'the simulated side' : 'a real legacy Edge'})`,
    '# Run in the Skype for Business Server Management Shell of the legacy (2015/2013) deployment.',
    '',
    "# The site's XMPP federation route goes through the legacy Edge pool, the one with the XMPP proxy",
    '# (Topology Builder: site > Edit Properties > Federation Route Settings > Enable XMPP federation; publish).',
    '# Routed through a 2019 Edge, which has no XMPP proxy, or disabled, users on the legacy pool lose XMPP.',
    '# The SIP federation route (Enable SIP federation) may go through the 2019 Edge: XMPP does not use it.',
    '# (The cmdlet parameter is -XmppFederationRoute; the Lync 2013 failover page writes -XmppExternalFederationRoute.)',
    'Set-CsSite -Identity <site> -XmppFederationRoute "EdgeServer:<legacy-edge-pool-fqdn>"',
    '',
    '# Federation on the Access Edge: AllowFederatedUsers defaults to $false, and $false stops XMPP federation too.',
    '# On the legacy Edge the "XMPP Translating Gateway Proxy" service must be started; stopping the Access Edge',
    '# service, as the 2019 migration does, leaves it running. Keep the central management store on the legacy',
    '# deployment while XMPP is in use (xfed reads Move-CsManagementServer to 2019 as the end of its XMPP).',
    'Set-CsAccessEdgeConfiguration -AllowFederatedUsers $true',
    '',
    `# The XMPP partner${target.kind === 'sim' ? ', as the suite simulates it' : ' xfed runs'}.`,
    describeProfileCommand(profile),
    ...(target.kind === 'sim' && target.sim.gateway ? ['', ...gatewayLines(target.sim.gateway)] : []),
    '',
    '# External access: EnableXmppAccess defaults to $false, so a user has XMPP only where a policy grants it,',
    '# and only while homed on the legacy pool (the 2019 pool has no XMPP gateway).',
    ...(target.kind === 'sim'
      ? policyLines(target.sim, sip)
      : grantAll(
          target.gateway.users.map((u) => u.name),
          sip,
        )),
    '',
  ];
  if (target.kind === 'sim') {
    const domains = [domain, ...(target.sim.additionalDomains ?? [])];
    const pools = target.sim.edgePools ?? [DEFAULT_EDGE_POOL];
    const fqdn = (pool: string) => (pools.length === 1 ? '<legacy-access-edge-fqdn>' : `<${pool}-access-edge-fqdn>`);
    lines.push(
      pools.length === 1
        ? '# DNS (public zone of the SfB domain): the XMPP SRV record points at the legacy Access Edge.'
        : '# DNS (public zone of each SIP domain): one XMPP SRV record per legacy Edge pool, with its priority (the lowest is tried first).',
      ...domains.flatMap((d) =>
        pools.flatMap((p) => (p.priority === undefined ? [] : [`_xmpp-server._tcp.${d}. 3600 IN SRV ${p.priority} 5 5269 ${fqdn(p.name)}.`])),
      ),
      '# The partner must publish its own, for dialback and for the Edge to reach it:',
      ...suite.partner.domains.map((d) => `_xmpp-server._tcp.${d}. 3600 IN SRV 0 5 5269 <partner-xmpp-server-fqdn>.`),
      '',
      `# Certificates: the Access Edge external certificate must list the bare domain${domains.length > 1 ? ' of each SIP domain' : ''} as a SAN.`,
      `#   SAN: ${domains.join(', ')} (and the Edge FQDNs); the partner must trust its issuing CA.`,
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

const XMPP_POLICY = 'New-CsExternalAccessPolicy -Identity "XmppUsers" -EnableFederationAccess $true -EnableXmppAccess $true';
const grant = (user: string, policy: string) => `Grant-CsExternalAccessPolicy -Identity ${user} -PolicyName ${psString(policy)}`;
const grantAll = (users: string[], sip: (name: string) => string): string[] => [XMPP_POLICY, ...users.map((u) => grant(sip(u), 'XmppUsers'))];

/**
 * The simulated users' policies as SfB holds them: the global policy where the suite sets one, a
 * per-user policy with XMPP for each user whose own `xmppAccess` is true, and one without it for
 * each whose own is false while the global policy grants it.
 */
function policyLines(sim: SimSpec, sip: (name: string, userDomain?: string) => string): string[] {
  const global = sim.externalAccessPolicy;
  const own = (value: boolean) => sim.users.filter((u) => u.xmppAccess === value);
  const denied = global?.enableXmppAccess ? own(false) : [];
  const lines: string[] = [];
  if (global)
    lines.push(`Set-CsExternalAccessPolicy -Identity Global -EnableFederationAccess $true -EnableXmppAccess ${global.enableXmppAccess ? '$true' : '$false'}`);
  if (own(true).length > 0) lines.push(XMPP_POLICY, ...own(true).map((u) => grant(sip(u.name, u.domain), 'XmppUsers')));
  if (denied.length > 0) {
    lines.push(
      'New-CsExternalAccessPolicy -Identity "NoXmpp" -EnableFederationAccess $true -EnableXmppAccess $false',
      ...denied.map((u) => grant(sip(u.name, u.domain), 'NoXmpp')),
    );
  }
  const withXmpp = sim.users.filter((u) => xmppAccessOf(u, global));
  const on2019 = withXmpp.filter((u) => u.pool !== 'legacy').map((u) => u.name);
  lines.push(`# XMPP users: ${withXmpp.map((u) => u.name).join(', ') || 'none (nobody is granted EnableXmppAccess)'}.`);
  if (on2019.length > 0) lines.push(`# Homed on the 2019 pool, so without XMPP all the same: ${on2019.join(', ')}.`);
  return lines;
}

const GATEWAY_TIMES = [
  ['streamInactivityTimeout', 'StreamInactivityTimeout'],
  ['keepAliveInterval', 'KeepAliveInterval'],
  ['streamEstablishmentTimeout', 'StreamEstablishmentTimeout'],
] as const;
const GATEWAY_LIMITS = [
  ['connectionLimit', 'ConnectionLimit'],
  ['partnerConnectionLimit', 'PartnerConnectionLimit'],
] as const;

/** The gateway settings the suite sets (the others keep the cmdlet's defaults); times in whole seconds, as the cmdlet takes them. */
function gatewayLines(settings: XmppGatewaySettingsSpec): string[] {
  const args = [
    ...GATEWAY_TIMES.flatMap(([key, parameter]) => {
      const value = settings[key];
      return value === undefined ? [] : [`-${parameter} ${Math.ceil(durationMs(value) / 1000)}`];
    }),
    ...GATEWAY_LIMITS.flatMap(([key, parameter]) => (settings[key] === undefined ? [] : [`-${parameter} ${settings[key]}`])),
  ];
  if (args.length === 0) return [];
  return [
    "# The XMPP gateway's timers and limits, as the suite sets them (the cmdlet takes whole seconds).",
    `Set-CsXmppGatewayConfiguration ${args.join(' ')}`,
  ];
}
