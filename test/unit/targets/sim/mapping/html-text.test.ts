import { describe, expect, it } from '@jest/globals';
import { htmlToText } from '../../../../../src/targets/sim/mapping/html-text.js';

describe('htmlToText (RFC 7572 section 7)', () => {
  it('turns text/html into the text a reader sees', () => {
    expect(htmlToText('<p>Hello <b>Alice</b>,</p>\n<p>the   cutover\nis <i>tonight</i>.</p>')).toBe('Hello Alice,\nthe cutover is tonight.');
    expect(htmlToText('line one<br>line two<BR/>line three')).toBe('line one\nline two\nline three');
    expect(htmlToText('<ul><li>one</li><li>two</li></ul>')).toBe('one\ntwo');
    expect(htmlToText('<html><head><title>t</title><style>p{}</style></head><body><!-- hidden -->seen<script>x()</script></body></html>')).toBe('seen');
  });

  it('decodes entities, named and numeric, and leaves unknown or invalid ones as written', () => {
    expect(htmlToText('a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#233;&#x1F600; &copy; &#0;')).toBe('a & b <c> "d" \'e\' é😀 &copy; &#0;');
    expect(htmlToText('a&nbsp;b')).toBe('a\u00a0b');
    // A decoded "<" is text, not markup.
    expect(htmlToText('&lt;b&gt;bold&lt;/b&gt;')).toBe('<b>bold</b>');
  });
});
