import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runNegotiationMatrix } from '../../src/matrix/negotiation-matrix.js';
import { parseSuite } from '../../src/scenario/loader.js';
import { runCli } from '../helpers/cli-process.js';
import { RUNTIMES, describeRuntime } from '../helpers/support.js';

// A profile under which every partner setting federates (no 12 s waits for the ones that cannot):
// SASL or dialback, over TLS or not.
const withProfile = async () =>
  (await readFile('scenarios/smoke.yaml', 'utf8')).replace(
    'partner: { partnerType: Federated }',
    'partner: { partnerType: Federated, tlsNegotiation: Optional, saslNegotiation: Optional, supportDialbackNegotiation: true }',
  );

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'matrix-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

for (const kind of RUNTIMES) {
  describeRuntime(kind, 'the negotiation matrix', () => {
    it('every partner setting negotiates as SfB documents for TlsNegotiation and SaslNegotiation Optional with dialback', async () => {
      const { suite } = parseSuite(await withProfile(), 'matrix.yaml');
      const { rows } = await runNegotiationMatrix(suite, { runtime: kind });
      expect(rows.map((r) => [r.partner.tls, r.partner.auth, r.observed, r.asPredicted])).toEqual([
        ['required', 'certificate', 'sasl-over-tls', true],
        ['optional', 'certificate', 'sasl-over-tls', true],
        ['required', 'dialback', 'sasl-over-tls', true],
        ['optional', 'dialback', 'sasl-over-tls', true],
        ['off', 'dialback', 'dialback-over-tcp', true],
      ]);
    });
  });
}

it('xfed matrix prints the table and exits 0 when everything is as predicted', async () => {
  const file = path.join(tmp, 'matrix.yaml');
  await writeFile(file, await withProfile());
  const r = await runCli(['matrix', file, '--runtime', 'process'], { timeoutMs: 90_000 });
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/✓ off\s+dialback\s+dialback-over-tcp\s+dialback-over-tcp \(no TLS\)/);
  expect(r.stdout).toContain('-TlsNegotiation Optional -SaslNegotiation Optional -SupportDialbackNegotiation $true');
  expect(r.stdout).toContain('every combination negotiated as the matrix predicts');
});
