import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** The de-facto JUnit schema (Jenkins xunit's junit-10.xsd), vendored with its origin and licence. */
const XSD = path.resolve('test/fixtures/junit/junit-10.xsd');

/**
 * What `xmllint --schema` finds wrong with a JUnit report, one line per problem; empty when it is
 * valid. The testcase attributes `file` and `line` are taken out first: junit-10.xsd dropped them
 * in 2018, while the GitHub test reporters read them and pytest and jest-junit write them; every
 * other part of the report is validated as written.
 */
export function junitSchemaProblems(xml: string): string[] {
  const withoutPositions = xml.replace(/(<testcase\b[^>]*?) file="[^"]*"(?: line="\d+")?/g, '$1');
  const r = spawnSync('xmllint', ['--noout', '--schema', XSD, '-'], { input: withoutPositions, encoding: 'utf8' });
  if (r.error) throw new Error(`xmllint is needed to validate JUnit reports (apt-get install libxml2-utils): ${r.error.message}`);
  if (r.status === 0) return [];
  return r.stderr.split('\n').filter((l) => l.trim() && !/ validates$| fails to validate$/.test(l));
}
