import { describe, expect, it } from '@jest/globals';
import { Redactor } from '../../../src/infra/redact.js';
import { FlowRecorder } from '../../../src/targets/flow.js';

describe('Redactor', () => {
  it('masks every occurrence of a secret and of its base64 form, in text and in nested values', () => {
    const r = new Redactor();
    expect(r.empty).toBe(true);
    r.add('s3cret-pw');
    const b64 = Buffer.from('s3cret-pw').toString('base64').replace(/=+$/, '');
    expect(r.text(`a s3cret-pw b s3cret-pw c ${b64}`)).toBe('a [redacted] b [redacted] c [redacted]');
    const value = { outcome: { text: 'got s3cret-pw' }, list: ['x', 's3cret-pw'], n: 3, ok: true, nested: { 's3cret-pw': 'key' } };
    expect(r.deep(value)).toEqual({ outcome: { text: 'got [redacted]' }, list: ['x', '[redacted]'], n: 3, ok: true, nested: { '[redacted]': 'key' } });
    expect(value.outcome.text).toBe('got s3cret-pw');
  });

  it('masks a secret inside a SASL PLAIN blob at any alignment, and escaped in XML, JSON or a URL', () => {
    const secret = 'p&ss<w0rd>"é"';
    const r = new Redactor();
    r.add(secret);
    for (const user of ['erin', 'erin1', 'erin12']) {
      const plain = Buffer.from(`\0${user}\0${secret}`).toString('base64');
      // What is left around the mask is at most the group shared with the user name, and the padding.
      const [head, tail] = r.text(`<auth mechanism="PLAIN">${plain}</auth>`).split(Redactor.MASK) as [string, string];
      expect([user, head.length - '<auth mechanism="PLAIN">'.length <= Math.ceil((user.length + 2) / 3) * 4, tail.length <= 4 + '</auth>'.length]).toEqual([
        user,
        true,
        true,
      ]);
      // A blob that does not hold the secret is left alone.
      expect(r.text(Buffer.from(`\0${user}\0other-password`).toString('base64'))).not.toContain(Redactor.MASK);
    }
    const xmlText = '<body>p&amp;ss&lt;w0rd&gt;&quot;é&quot;</body>';
    expect(r.text(xmlText)).toBe('<body>[redacted]</body>');
    expect(r.text(JSON.stringify({ text: secret }))).toBe('{"text":"[redacted]"}');
    expect(r.text(`https://x/?pw=${encodeURIComponent(secret)}`)).toBe('https://x/?pw=[redacted]');
  });

  it('masks a secret that contains another one whole, and ignores empty secrets', () => {
    const r = new Redactor();
    r.add('');
    expect(r.empty).toBe(true);
    r.add('abc');
    r.add('xxabcxx');
    expect(r.text('=xxabcxx= and abc')).toBe('=[redacted]= and [redacted]');
  });

  it('keeps secrets out of the message flow', () => {
    const r = new Redactor();
    r.add('hunter22');
    const flow = new FlowRecorder(r);
    flow.record({ from: 'partner-user', to: 'partner-server', protocol: 'xmpp', label: 'message hunter22', wire: '<body>hunter22</body>' });
    expect(flow.since(0)[0]).toMatchObject({ label: 'message [redacted]', wire: '<body>[redacted]</body>' });
  });
});
