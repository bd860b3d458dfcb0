/**
 * Escaping for the XML and HTML reports. Hand-written because the rules are short and the one
 * builder that would apply them (xmlbuilder2) rejects `]]>` in CDATA and writes newlines in
 * attributes literally, which parsers then fold into spaces.
 */

// Everything XML 1.0 forbids: C0 controls other than tab/LF/CR, lone surrogates, U+FFFE/U+FFFF.
const XML_FORBIDDEN = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

function stripInvalidXmlChars(s: string): string {
  return s.replace(XML_FORBIDDEN, '');
}

export function escapeXmlText(s: string): string {
  return stripInvalidXmlChars(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Attribute values keep their newlines and tabs only as character references. */
export function escapeXmlAttr(s: string): string {
  return escapeXmlText(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

/** A CDATA section; `]]>` inside is split across two sections so it cannot end the first. */
export function cdata(s: string): string {
  return `<![CDATA[${stripInvalidXmlChars(s).replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;
}

/** Text and attribute values in HTML (both quote styles, so any attribute quoting is safe). */
export function escapeHtml(s: string): string {
  return stripInvalidXmlChars(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
