import { randomBytes } from 'node:crypto';
import { XfedError } from '../errors.js';
import type { PartnerAccount, PartnerUserSpec } from './types.js';

/** A password that needs no SASLprep and no escaping anywhere. */
function generatePassword(): string {
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
    if (!LOCALPART.test(localpart))
      throw new XfedError(`user '${spec.name}': a partner localpart may use letters, digits, '.', '_', '-' and XEP-0106 escapes such as \\27`);
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
