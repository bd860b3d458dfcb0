import { createHash, createHmac, pbkdf2Sync, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { XfedError } from '../errors.js';
import { luaString, toLua } from './lua.js';
import type { PartnerAccount, PartnerUserSpec } from './types.js';

const ITERATIONS = 64; // matches default_iteration_count in the rendered config

/** A password that needs no SASLprep and no escaping anywhere. */
export function generatePassword(): string {
  return randomBytes(12).toString('base64url');
}

// Plain localparts, plus XEP-0106 escapes for what RFC 7622 forbids (`o\27hara` is o'hara).
const LOCALPART = /^(?:[a-z0-9._-]|\\(?:20|22|26|27|2f|3a|3c|3e|40|5c))+$/i;

/** Expands the `users` option into one account per (user, domain). */
export function planAccounts(domains: string[], users: Array<string | PartnerUserSpec>): PartnerAccount[] {
  const out: PartnerAccount[] = [];
  const seen = new Set<string>();
  for (const user of users) {
    const spec = typeof user === 'string' ? { name: user } : user;
    const [localpart, only] = spec.name.split('@') as [string, string | undefined];
    if (!LOCALPART.test(localpart)) throw new XfedError(`user '${spec.name}': a partner localpart may use letters, digits, '.', '_', '-' and XEP-0106 escapes such as \\27`);
    if (only !== undefined && !domains.includes(only)) {
      throw new XfedError(`user '${spec.name}': domain '${only}' is not one of the partner's domains (${domains.join(', ')})`);
    }
    for (const domain of only ? [only] : domains) {
      const jid = `${localpart.toLowerCase()}@${domain}`;
      if (seen.has(jid)) throw new XfedError(`user '${jid}' is listed twice`);
      seen.add(jid);
      out.push({ jid, localpart: localpart.toLowerCase(), domain, password: spec.password ?? generatePassword() });
    }
  }
  return out;
}

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

/**
 * Writes the accounts into a Prosody data directory, exactly as `prosodyctl register` would,
 * but without one Lua start per account and identically for both runtimes.
 */
export async function writeAccounts(dataDir: string, accounts: PartnerAccount[]): Promise<void> {
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
