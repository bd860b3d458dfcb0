/**
 * A text/html IM body as the plain text an XMPP <body/> carries (RFC 7572 section 7): what a reader
 * would see, without markup. Line breaks come from <br> and block boundaries (one each); entities are decoded.
 */

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      // Code points XML 1.0 cannot carry (NUL, lone surrogates, beyond Unicode) stay as written.
      const ok = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff));
      return ok ? String.fromCodePoint(code) : whole;
    }
    return NAMED[name.toLowerCase()] ?? whole;
  });
}

// The elements whose end starts a new line, as a browser lays them out.
const BLOCK = 'p|div|li|ul|ol|tr|table|h[1-6]|blockquote|pre|section|article|header|footer|dd|dt|dl';

export function htmlToText(html: string): string {
  const text = html
    // What a reader never sees.
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style|head|title)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, '')
    // Source line breaks and runs of spaces are one space in HTML.
    .replace(/\s+/g, ' ')
    .replace(/<br\b[^>]*>/gi, '\n')
    .replace(new RegExp(`</(?:${BLOCK})\\s*>|<(?:${BLOCK})\\b[^>]*>`, 'gi'), '\n')
    .replace(/<[^>]*>/g, '');
  return decodeEntities(text)
    .split('\n')
    .map((line) => line.trim())
    .join('\n')
    .replace(/\n{2,}/g, '\n')
    .trim();
}
