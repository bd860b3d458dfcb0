import { describe, expect, it, jest } from '@jest/globals';
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
