/**
 * Secrets a run holds (the passwords of a real gateway's test users) and what hides them: every
 * text that reaches a report, the console or a log passes through `text` or `deep` first.
 */
export class Redactor {
  static readonly MASK = '[redacted]';
  private secrets: string[] = [];

  /**
   * Registers a secret, and the forms it takes on the way out: escaped in XML, JSON or a URL, and
   * base64, at each of the three alignments it can have inside a longer blob (SASL PLAIN's
   * `\0user\0password`), where only the characters that depend on the secret alone are matched.
   */
  add(secret: string): void {
    if (secret.length === 0) return;
    const bytes = Buffer.from(secret);
    const aligned = [1, 2].map((k) => {
      const groups = Math.floor((k + bytes.length) / 3);
      return Buffer.concat([Buffer.alloc(k), bytes])
        .toString('base64')
        .slice(4, groups * 4);
    });
    const escaped = [
      secret.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;'),
      JSON.stringify(secret).slice(1, -1),
      encodeURIComponent(secret),
    ];
    const forms = [secret, ...escaped, bytes.toString('base64').replace(/=+$/, ''), ...aligned.filter((f) => f.length >= 6)];
    // Longest first, so a secret that contains another is masked whole.
    this.secrets = [...new Set([...this.secrets, ...forms.filter((f) => f.length >= 3)])].sort((a, b) => b.length - a.length);
  }

  get empty(): boolean {
    return this.secrets.length === 0;
  }

  text(s: string): string {
    let out = s;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(Redactor.MASK);
    return out;
  }

  /** A copy of a JSON-like value with every string redacted (keys too). */
  deep<T>(value: T): T {
    if (this.secrets.length === 0) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.text(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [this.text(k), walk(x)]));
      }
      return v;
    };
    return walk(value) as T;
  }
}
