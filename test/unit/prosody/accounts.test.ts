import { describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash, createHmac } from 'node:crypto';
import { planAccounts } from '../../../src/partner/accounts.js';
import { prosodyPathEncode, scramCredentials, scramKeys, writeAccounts } from '../../../src/prosody/accounts.js';

describe('planAccounts', () => {
  it('creates each plain user on every domain, with generated passwords', () => {
    const accounts = planAccounts(['a.test', 'b.test'], ['alice']);
    expect(accounts.map((a) => a.jid)).toEqual(['alice@a.test', 'alice@b.test']);
    expect(accounts[0]!.password).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(accounts[0]!.password).not.toBe(accounts[1]!.password);
  });

  it('creates name@domain on that domain only and keeps a given password', () => {
    expect(planAccounts(['a.test', 'b.test'], [{ name: 'bob@b.test', password: 'pw' }])).toEqual([
      { jid: 'bob@b.test', localpart: 'bob', domain: 'b.test', password: 'pw' },
    ]);
  });

  it('names the problem with a user', () => {
    expect(() => planAccounts(['a.test'], ['bob@c.test'])).toThrow("user 'bob@c.test': domain 'c.test' is not one of the partner's domains (a.test)");
    expect(() => planAccounts(['a.test'], ['alice', 'Alice'])).toThrow("user 'alice@a.test' is listed twice");
    expect(() => planAccounts(['a.test'], ['al ice'])).toThrow(/localpart may use/);
  });
});

describe('Prosody account storage', () => {
  it("encodes paths like Prosody's datamanager", () => {
    expect(prosodyPathEncode('partner.test')).toBe('partner%2etest');
    expect(prosodyPathEncode('a-b_c')).toBe('a%2db%5fc');
  });

  it('derives keys that verify the RFC 5802 example exchange', () => {
    // RFC 5802 section 5: user "user", password "pencil", 4096 iterations.
    const { storedKey, serverKey } = scramKeys('pencil', Buffer.from('QSXCR+Q6sek8bf92', 'base64'), 4096);
    const nonce = 'fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j';
    const authMessage = `n=user,r=fyko+d2lbbFgONRv9qkxdawL,r=${nonce},s=QSXCR+Q6sek8bf92,i=4096,c=biws,r=${nonce}`;
    // The server proves itself with v=...; the client with p=..., from which ClientKey follows.
    expect(createHmac('sha1', serverKey).update(authMessage).digest('base64')).toBe('rmF9pqV8S7suAoZWja4dJRkFsKQ=');
    const clientSignature = createHmac('sha1', storedKey).update(authMessage).digest();
    const proof = Buffer.from('v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=', 'base64');
    const clientKey = Buffer.from(proof.map((b, i) => b ^ clientSignature[i]!));
    expect(createHash('sha1').update(clientKey).digest()).toEqual(storedKey);
  });

  it('stores hex keys for a UTF-8 salt, as internal_hashed does', () => {
    const creds = scramCredentials('pw', 'salt-uuid', 64);
    const keys = scramKeys('pw', Buffer.from('salt-uuid'), 64);
    expect(creds).toEqual({ iteration_count: 64, salt: 'salt-uuid', stored_key: keys.storedKey.toString('hex'), server_key: keys.serverKey.toString('hex') });
  });

  it('writes one account file per user in Lua', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'xfed-unit-'));
    try {
      await writeAccounts(dir, planAccounts(['a.test'], [{ name: 'alice', password: 'secret' }]));
      const text = await readFile(path.join(dir, 'a%2etest', 'accounts', 'alice.dat'), 'utf8');
      expect(text).toMatch(
        /^return \{\n\t\["iteration_count"\] = 64;\n\t\["salt"\] = "[0-9a-f-]{36}";\n\t\["stored_key"\] = "[0-9a-f]{40}";\n\t\["server_key"\] = "[0-9a-f]{40}";\n\};\n$/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
