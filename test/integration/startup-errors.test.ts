import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { StartupError } from '../../src/errors.js';
import { renderProsodyConfig } from '../../src/prosody/config.js';
import { Federation } from '../../src/partner/federation.js';
import { DEFAULT_S2S_SECURITY } from '../../src/prosody/types.js';
import { RUNTIMES, describeRuntime } from '../helpers/support.js';

for (const kind of RUNTIMES) {
  describeRuntime(kind, 'startup failures end in a clear error with the Prosody log, never a hang', () => {
    let fed: Federation;
    beforeAll(async () => {
      fed = await Federation.start({ runtime: kind });
    });
    afterAll(() => fed?.stop());

    if (kind === 'process') {
      it('a port in use', async () => {
        const blocker = net.createServer();
        await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
        const port = (blocker.address() as net.AddressInfo).port;
        try {
          const err = await fed.addPartner({ domains: ['busy.test'], prosodyOptions: { s2s_ports: [port] } }).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(StartupError);
          expect((err as StartupError).message).toMatch(`Prosody for busy.test failed to start: Failed to open server port ${port} on 127.0.0.1`);
          expect((err as StartupError).logLines.some((l) => l.includes('this port is in use by another application'))).toBe(true);
        } finally {
          blocker.close();
        }
      });
    }

    it('a bad config: an authentication provider that does not exist', async () => {
      const err = await fed.addPartner({ domains: ['badcfg.test'], prosodyOptions: { authentication: 'ldap_typo' } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StartupError);
      expect((err as Error).message).toMatch(/failed to start: Unable to load module 'auth_ldap_typo'/);
    });

    it('an unreadable private key', async () => {
      const hostDir = await mkdtemp(path.join(os.tmpdir(), 'xfed-badkey-'));
      try {
        await mkdir(path.join(hostDir, 'certs'));
        await mkdir(path.join(hostDir, 'data'));
        await writeFile(path.join(hostDir, 'certs', 'badkey.test.crt'), 'not a certificate\n', { mode: 0o644 });
        await writeFile(path.join(hostDir, 'certs', 'badkey.test.key'), 'not a key\n', { mode: 0o644 });
        const err = await fed.runtime
          .startProsody({
            label: 'badkey.test',
            hostDir,
            domains: ['badkey.test'],
            readinessDomain: 'badkey.test',
            startTimeoutMs: 20_000,
            renderConfig: (l) =>
              renderProsodyConfig({
                domains: [{ name: 'badkey.test', certPath: `${l.root}/certs/badkey.test.crt`, keyPath: `${l.root}/certs/badkey.test.key` }],
                s2s: DEFAULT_S2S_SECURITY,
                dataDir: `${l.root}/data`,
                certificatesDir: `${l.root}/certs`,
                pidFile: `${l.root}/prosody.pid`,
                c2sPort: l.c2sPort,
                s2sPort: l.s2sPort,
                interfaces: l.interfaces,
                ...(l.dnsForward ? { dnsForward: l.dnsForward } : {}),
                runAsRoot: l.runAsRoot,
                logLevel: 'info',
              }),
          })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StartupError);
        expect((err as Error).message).toMatch(/failed to start: .*(SSL\/TLS: Failed to load|Error creating context)/);
      } finally {
        await rm(hostDir, { recursive: true, force: true });
      }
    });

    it('a server that never serves its domain fails at the start deadline', async () => {
      // No c2s listener at all: the probe is refused until the start deadline, which ends the
      // wait with an error instead of a hang.
      const err = await fed.addPartner({ domains: ['slow.test'], startTimeoutMs: 1_500, prosodyOptions: { c2s_ports: [] } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StartupError);
      expect((err as Error).message).toMatch(/is not serving: timed out after \d+ ms waiting for c2s stream features of slow\.test/);
    });
  });
}
