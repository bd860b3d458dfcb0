import { describe, expect, it, jest } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSfbConfig } from '../../../src/cli/sfb-config.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/suites/valid/${name}`, import.meta.url));

async function printed(file: string): Promise<string> {
  let out = '';
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    expect(await runSfbConfig(file)).toBe(0);
  } finally {
    spy.mockRestore();
  }
  return out;
}

describe('xfed sfb-config for a real gateway', () => {
  it("prints the allowed partner, the users' policy, the DNS records that point at the partner's listen address, and trust", async () => {
    const out = await printed(fixture('gateway.yaml'));
    expect(out).toContain(
      'New-CsXmppAllowedPartner -Identity "xmpp.fabrikam.test" -PartnerType Federated -TlsNegotiation Required -SaslNegotiation Required -SupportDialbackNegotiation $false',
    );
    expect(out).toContain('Grant-CsExternalAccessPolicy -Identity "erin@contoso.test" -PolicyName "XmppUsers"');
    expect(out).toContain('_xmpp-server._tcp.contoso.test. 3600 IN SRV 0 5 5270 edge1.contoso.test.');
    expect(out).toContain('_xmpp-server._tcp.xmpp.fabrikam.test. 300 IN SRV 0 5 15269 xfed-partner.xmpp.fabrikam.test.');
    expect(out).toContain('xfed-partner.xmpp.fabrikam.test. 300 IN A 127.0.0.1');
    expect(out).toMatch(/partner presents lab\/partner\.crt .*Trusted Root/);
    expect(out).toContain('password from $XFED_ERIN_PASSWORD');
  });

  it('says what a simulated suite configures, unchanged', async () => {
    const out = await printed(fixture('minimal.yaml'));
    expect(out).toContain('as the suite simulates it');
    expect(out).toContain('<legacy-access-edge-fqdn>');
  });
});

describe('xfed sfb-config prints what the simulation enforces', () => {
  it('the XMPP federation route through the legacy Edge (Set-CsSite -XmppFederationRoute) and AllowFederatedUsers $true', async () => {
    for (const suite of ['minimal.yaml', 'gateway.yaml']) {
      const lines = (await printed(fixture(suite))).split('\n');
      expect(lines).toContain('Set-CsSite -Identity <site> -XmppFederationRoute "EdgeServer:<legacy-edge-pool-fqdn>"');
      expect(lines).toContain('Set-CsAccessEdgeConfiguration -AllowFederatedUsers $true');
      expect(lines.filter((l) => l.startsWith('#')).join(' ')).toMatch(
        /Enable XMPP federation.*2019 Edge, which has no XMPP proxy.*AllowFederatedUsers defaults to \$false/,
      );
    }
  });

  it('EnableXmppAccess as the suite grants it: per user, and a user without a grant gets none (its default is False)', async () => {
    const lines = (await printed(fixture('minimal.yaml'))).split('\n');
    expect(lines).toContain('New-CsExternalAccessPolicy -Identity "XmppUsers" -EnableFederationAccess $true -EnableXmppAccess $true');
    expect(lines).toContain('Grant-CsExternalAccessPolicy -Identity "erin@contoso.test" -PolicyName "XmppUsers"');
    expect(lines).toContain('# XMPP users: erin.');
    expect(lines.some((l) => l.includes('-Identity Global'))).toBe(false);
  });

  it('the global policy where the suite sets one, and a policy without XMPP for a user whose own withholds it', async () => {
    const lines = (await printed(fixture('every-kind.yaml'))).split('\n');
    expect(lines).toContain('Set-CsExternalAccessPolicy -Identity Global -EnableFederationAccess $true -EnableXmppAccess $true');
    expect(lines).toContain('New-CsExternalAccessPolicy -Identity "NoXmpp" -EnableFederationAccess $true -EnableXmppAccess $false');
    expect(lines).toContain('Grant-CsExternalAccessPolicy -Identity "judy@contoso.test" -PolicyName "NoXmpp"');
    expect(lines).toContain('# XMPP users: erin, frank.');
    expect(lines.some((l) => l.includes('"XmppUsers"'))).toBe(false);
  });

  it("the gateway's timers and limits the suite sets, an SRV record per Edge pool and SIP domain, every bare-domain SAN", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sfb-config-'));
    try {
      const file = path.join(dir, 'suite.yaml');
      await writeFile(
        file,
        `suite: s
partner: { domains: [partner.test], users: [alice] }
target:
  sim:
    domain: contoso.test
    additionalDomains: [fabrikam.test]
    edgePools: [{ name: edge-a, priority: 10 }, { name: edge-b, priority: 20 }]
    gateway: { streamInactivityTimeout: 1500ms, keepAliveInterval: 2s, partnerConnectionLimit: 5 }
    users: [{ name: erin, pool: legacy, xmppAccess: true }, { name: fay, pool: legacy, domain: fabrikam.test, xmppAccess: true }]
phases: [{ name: a, checks: [{ id: im, kind: im, from: alice, to: erin }] }]
`,
      );
      const lines = (await printed(file)).split('\n');
      expect(lines).toContain('Set-CsXmppGatewayConfiguration -StreamInactivityTimeout 2 -KeepAliveInterval 2 -PartnerConnectionLimit 5');
      expect(lines).toEqual(
        expect.arrayContaining([
          '_xmpp-server._tcp.contoso.test. 3600 IN SRV 10 5 5269 <edge-a-access-edge-fqdn>.',
          '_xmpp-server._tcp.contoso.test. 3600 IN SRV 20 5 5269 <edge-b-access-edge-fqdn>.',
          '_xmpp-server._tcp.fabrikam.test. 3600 IN SRV 10 5 5269 <edge-a-access-edge-fqdn>.',
          '_xmpp-server._tcp.fabrikam.test. 3600 IN SRV 20 5 5269 <edge-b-access-edge-fqdn>.',
          '#   SAN: contoso.test, fabrikam.test (and the Edge FQDNs); the partner must trust its issuing CA.',
          'Grant-CsExternalAccessPolicy -Identity "fay@fabrikam.test" -PolicyName "XmppUsers"',
        ]),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the users granted EnableXmppAccess who are homed on the 2019 pool, where they have no XMPP', async () => {
    const lines = (await printed(fixture('cutover.yaml'))).split('\n');
    expect(lines).toContain('# XMPP users: erin, judy.');
    expect(lines).toContain('# Homed on the 2019 pool, so without XMPP all the same: judy.');
  });
});
