/**
 * %-escaping of SIP URI parts (RFC 3261 section 25.1): what a user part or a parameter may not hold
 * raw is written as its UTF-8 bytes, uppercase hex (RFC 3986 section 2.1).
 */
// RFC 3261 section 25.1: user = 1*( unreserved / escaped / user-unreserved ), with
// unreserved = alphanum / mark ("-_.!~*'()") and user-unreserved = "&=+$,;?/".
const USER_SAFE = /[A-Za-z0-9\-_.!~*'()&=+$,;?/]/;
// RFC 3261 section 25.1: paramchar = param-unreserved ("[]/:&+$") / unreserved / escaped.
const PARAM_SAFE = /[A-Za-z0-9\-_.!~*'()[\]/:&+$]/;

/** %-escapes every character outside `safe` as its UTF-8 bytes, uppercase hex (RFC 3986 section 2.1). */
function percentEncode(text: string, safe: RegExp): string {
  let out = '';
  for (const ch of text) {
    out += safe.test(ch) ? ch : [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  }
  return out;
}

/** A parameter value (a GRUU's `gr`, say) with what RFC 3261 does not allow raw %-escaped. */
export function escapeSipParam(text: string): string {
  return percentEncode(text, PARAM_SAFE);
}

/** A name as a SIP user part: %-escapes what RFC 3261 does not allow raw, non-ASCII as UTF-8 bytes. */
export function escapeSipUser(name: string): string {
  return percentEncode(name, USER_SAFE);
}

/** The name a SIP user part escapes; a malformed escape is kept as written (it names nobody). */
export function unescapeSipUser(user: string): string {
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}
