import { createHash, createHmac, pbkdf2Sync, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { luaString, toLua } from './lua.js';

const ITERATIONS = 64; // matches default_iteration_count in the rendered config

/** Prosody's datamanager path encoding: every non-alphanumeric byte as %xx. */
export function prosodyPathEncode(s: string): string {
  return Array.from(Buffer.from(s, 'utf8'))
    .map((b) => (/[A-Za-z0-9]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`))
    .join('');
}

/** SCRAM-SHA-1 credentials as Prosody's internal_hashed stores them (RFC 5802). */
export function scramCredentials(password: string, salt: string = randomUUID(), iterations = ITERATIONS) {
  const { storedKey, serverKey } = scramKeys(password, Buffer.from(salt, 'utf8'), iterations);
  return { iteration_count: iterations, salt, stored_key: storedKey.toString('hex'), server_key: serverKey.toString('hex') };
}

/** StoredKey and ServerKey of RFC 5802 section 3. */
export function scramKeys(password: string, salt: Buffer, iterations: number): { storedKey: Buffer; serverKey: Buffer } {
  const salted = pbkdf2Sync(password, salt, iterations, 20, 'sha1');
  const clientKey = createHmac('sha1', salted).update('Client Key').digest();
  return {
    storedKey: createHash('sha1').update(clientKey).digest(),
    serverKey: createHmac('sha1', salted).update('Server Key').digest(),
  };
}

/** An account as Prosody stores it: a localpart on one of its hosts. */
export interface ProsodyAccount {
  localpart: string;
  domain: string;
  password: string;
}

/**
 * Writes the accounts into a Prosody data directory, exactly as `prosodyctl register` would,
 * but without one Lua start per account and identically for both runtimes.
 */
export async function writeAccounts(dataDir: string, accounts: ProsodyAccount[]): Promise<void> {
  for (const a of accounts) {
    const dir = path.join(dataDir, prosodyPathEncode(a.domain), 'accounts');
    await mkdir(dir, { recursive: true });
    const creds = scramCredentials(a.password);
    const body = Object.entries(creds)
      .map(([k, v]) => `\t[${luaString(k)}] = ${toLua(v)};`)
      .join('\n');
    await writeFile(path.join(dir, `${prosodyPathEncode(a.localpart)}.dat`), `return {\n${body}\n};\n`, { mode: 0o644 });
  }
}
