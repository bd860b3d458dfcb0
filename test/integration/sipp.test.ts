import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withDeadline } from '../../src/infra/deadline.js';
import { SfbDirectory } from '../../src/targets/sim/pool/directory.js';
import type { SipTrace } from '../../src/sip/endpoint.js';
import { SipPool } from '../../src/targets/sim/pool/pool.js';
import type { SipUserEvent } from '../../src/targets/sim/pool/user-event.js';

/**
 * A real, independent SIP implementation (SIPp) against the simulated pool: sipp sends a MESSAGE
 * from the "XMPP side" to an echo user, then receives the echo (the pool's XMPP route points at
 * sipp) and answers 200. Interop, not just self-consistency.
 */
function findSipp(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, 'sipp');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error('sipp is not on PATH: install it with `apt-get install sip-tester`');
}

const SCENARIO = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="xfed echo user">
  <send retrans="500">
    <![CDATA[
MESSAGE sip:echo@contoso.test SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:sipp@partner.test>;tag=[pid]SIPpTag00[call_number]
To: <sip:echo@contoso.test>
Call-ID: [call_id]
CSeq: 1 MESSAGE
Max-Forwards: 70
Subject: from sipp
Content-Type: text/plain
Content-Length: [len]

hello from sipp
    ]]>
  </send>
  <recv response="200" />
  <recv request="MESSAGE" />
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

    ]]>
  </send>
</scenario>
`;

/** A UDP port nothing uses right now (sipp binds it itself). */
async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('sipp against a simulated pool', () => {
  let sipp: string;
  let pool: SipPool;
  let dir: string;
  let child: ChildProcess | undefined;
  const traces: SipTrace[] = [];

  beforeAll(async () => {
    sipp = findSipp();
    dir = mkdtempSync(path.join(os.tmpdir(), 'xfed-sipp-'));
    const directory = new SfbDirectory('contoso.test', [{ name: 'echo', pool: 'legacy', xmppAccess: true }]);
    pool = await SipPool.start({ name: 'legacy', directory, hasXmppGateway: true, requestTimeoutMs: 5_000 });
    pool.on('trace', (t: SipTrace) => traces.push(t));
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await pool?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sends a MESSAGE to the echo user over UDP (200) and answers the echo (200)', async () => {
    const scenario = path.join(dir, 'echo.xml');
    writeFileSync(scenario, SCENARIO);
    const sippPort = await freeUdpPort();
    pool.setXmppRoute({ host: '127.0.0.1', port: sippPort, transport: 'udp' });
    const echoed = new Promise<SipUserEvent>((resolve) => pool.on('user-event', (e: SipUserEvent) => e.kind === 'echo' && resolve(e)));

    const args = [
      `127.0.0.1:${pool.target().port}`,
      '-sf',
      scenario,
      '-i',
      '127.0.0.1',
      '-p',
      String(sippPort),
      '-mp',
      String(await freeUdpPort()),
      '-t',
      'u1',
      '-m',
      '1',
    ];
    args.push('-timeout', '15s', '-timeout_error', '-nostdin', '-trace_err', '-error_file', path.join(dir, 'errors.log'));
    let output = '';
    const proc = spawn(sipp, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await withDeadline(
      new Promise<number | null>((resolve, reject) => {
        proc.once('error', reject);
        proc.once('exit', (c) => resolve(c));
      }),
      25_000,
      'sipp to finish its scenario',
    );
    let errors = '';
    try {
      errors = readFileSync(path.join(dir, 'errors.log'), 'utf8');
    } catch {
      // no unexpected messages, so no error log
    }
    expect({ code, errors: errors.trim() }).toEqual({ code: 0, errors: '' });
    // sipp's statistics screen: one successful call, none failed (cumulative column).
    expect(output).toMatch(/Successful call\s*\|\s*\d+\s*\|\s*1\s/);
    expect(output).toMatch(/Failed call\s*\|\s*\d+\s*\|\s*0\s/);

    expect((await withDeadline(echoed, 5_000, "the echo's answer from sipp")).status).toBe(200);
    const inbound = traces.find(
      (t) => t.direction === 'in' && t.message.kind === 'request' && t.message.method === 'MESSAGE' && t.remote === `127.0.0.1:${sippPort}`,
    );
    expect(inbound).toBeDefined();
    const callId = inbound!.message.headers.get('Call-ID');
    const mine = traces.filter((t) => t.message.headers.get('Call-ID') === callId);
    const summary = mine.map((t) => `${t.direction} ${t.message.kind === 'request' ? t.message.method : t.message.status}`);
    expect(summary).toEqual(['in MESSAGE', 'out 200', 'out MESSAGE', 'in 200']);
    const echo = mine[2]!.message;
    expect(echo.body).toContain('hello from sipp');
    expect(echo.headers.get('Subject')).toBe('from sipp');
  });
});
