import { AREAS, type Behaviour } from './index.js';
import { sourceKind, sourceText } from './source.js';

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Rows by the kind of their first source: Microsoft, RFC (and XEPs), xfed's choice. */
function countBySource(): Record<'Microsoft' | 'RFC' | "xfed's choice", number> {
  const counts = { Microsoft: 0, RFC: 0, "xfed's choice": 0 };
  for (const area of AREAS) for (const row of Object.values(area.rows) as Behaviour[]) counts[sourceKind(row.sources[0])]++;
  return counts;
}

/** docs/sfb-behaviours.md: generated from the catalogue in code (`npm run docs:behaviours`), checked by a unit test. */
export function renderCatalogue(): string {
  const counts = countBySource();
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const out = [
    '# What the simulated legacy side does, and why',
    '',
    '<!-- Generated from src/sfb/behaviours/ by `npm run docs:behaviours`; edit the code, not this file. -->',
    '',
    'Every behaviour the simulated Skype for Business side encodes, one row each: what it does, the',
    "source it follows (a Microsoft page, an RFC or XEP section, or xfed's own choice where both are",
    'silent, with the reason), and the test that proves it. Where Microsoft documents a behaviour it wins',
    'over the RFC. Rows marked *partner-dependent* describe what a partner user sees, which also depends',
    "on the partner's own server: another server may answer differently.",
    '',
    'The HTML report lists, for each check against the simulation, the rows its outcome rests on (the',
    'behaviours the simulation applied while the check ran, the lasting changes earlier steps left in',
    "effect, and what its phase's steps applied), by the ids below. A few rows are cited from the Edge",
    "Prosody's own log (a TLS handshake, a stream closed); in the container runtime that log arrives late,",
    'and such a row may be missing from a check that ended before it came.',
    '',
    `${total} rows: ${counts.Microsoft} from Microsoft, ${counts.RFC} from RFCs and XEPs, ${counts["xfed's choice"]} xfed's choice.`,
    '',
  ];
  for (const area of AREAS) {
    const rows = Object.entries(area.rows) as Array<[string, Behaviour]>;
    if (rows.length === 0) continue;
    out.push(`## ${area.title}`, '', '| id | behaviour | source | proved by |', '|---|---|---|---|');
    for (const [id, b] of rows) {
      const does = b.partnerDependent ? `${b.does} *Partner-dependent: ${b.partnerDependent}*` : b.does;
      out.push(`| \`${id}\` | ${cell(does)} | ${cell(b.sources.map(sourceText).join('; '))} | ${cell(b.provedBy)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
