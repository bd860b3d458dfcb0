import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { checkTemplate, TEMPLATES } from '../../../scripts/check-ci-templates.js';
import { ROOT } from '../../helpers/cli-process.js';

const shipped = async (file: string) => readFile(path.join(ROOT, file), 'utf8');
const action = () => shipped('.github/actions/xfed/action.yml');
const azure = () => shipped('ci/azure-pipelines/xfed-steps.yml');
const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;

describe('scripts/check-ci-templates.ts', () => {
  it.each(TEMPLATES)('the shipped $file ($kind) passes', async ({ file, kind }) => {
    expect(await checkTemplate(await shipped(file), kind)).toEqual([]);
  });

  it('rejects an action step the schema does not allow, at its line', async () => {
    const text = (await action()).replace('      uses: actions/upload-artifact@v7', '      usez: actions/upload-artifact@v7');
    const problems = await checkTemplate(text, 'github-action');
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.map((p) => p.message).join('\n')).toMatch(/usez/);
    expect(problems.some((p) => p.line >= lineOf(text, '- name: Upload the reports'))).toBe(true);
  });

  it('rejects an input reference that names no declared input, in ${{ }} and in if:', async () => {
    const text = (await action())
      .replace('SUITES: ${{ inputs.suites }}', 'SUITES: ${{ inputs.suite }}')
      .replace("if: inputs.install-prosody == 'true'", "if: inputs.install_prosody == 'true'");
    const problems = await checkTemplate(text, 'github-action');
    expect(problems).toEqual([
      expect.objectContaining({
        line: lineOf(text, 'if: inputs.install_prosody'),
        message: expect.stringMatching(/^inputs\.install_prosody is not declared \(inputs: suites, runtime/),
      }),
      expect.objectContaining({ line: lineOf(text, 'SUITES: ${{ inputs.suite }}'), message: expect.stringMatching(/^inputs\.suite is not declared/) }),
    ]);
  });

  it('rejects an undeclared Azure parameter, also in a conditional insertion key', async () => {
    const text = (await azure())
      .replace('OUT: ${{ parameters.out }}', 'OUT: ${{ parameters.outDir }}')
      .replace("ne(parameters.runtime, 'container')", "ne(parameters.runtim, 'container')");
    const messages = (await checkTemplate(text, 'azure-steps-template')).map((p) => `${p.line}: ${p.message.split(' (')[0]}`);
    expect(messages).toEqual([
      `${lineOf(text, 'parameters.runtim,')}: parameters.runtim is not declared`,
      `${lineOf(text, 'parameters.outDir')}: parameters.outDir is not declared`,
    ]);
  });

  it('rejects a misspelt task input and an unknown step key of the Azure template', async () => {
    const text = (await azure())
      .replace("testResultsFiles: '**/junit.xml'", "testResultFiles: '**/junit.xml'")
      .replace('displayName: Install xfed', 'displayname: Install xfed');
    const messages = (await checkTemplate(text, 'azure-steps-template')).map((p) => p.message);
    expect(messages.join('\n')).toMatch(/unknown key 'testResultFiles'/);
    expect(messages.join('\n')).toMatch(/must have required property 'testResultsFiles'/);
  });

  it('a YAML syntax error is reported at its line and column', async () => {
    expect((await checkTemplate('name: x\nruns:\n  using: composite\n  steps: [\n', 'github-action'))[0]).toMatchObject({
      line: expect.any(Number),
      message: expect.stringMatching(/flow sequence|Missing|end/i),
    });
  });

  describe('as a command', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'xfed-ci-templates-'));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('prints file:line:col per problem and exits 1 on a broken template, 0 on the shipped ones', async () => {
      const broken = path.join(dir, 'xfed-steps.yml');
      await writeFile(broken, (await azure()).replace('- task: PublishTestResults@2', '- task: PublishTestResults'));
      const run = (args: string[]) =>
        spawnSync(process.execPath, ['--import', 'tsx', 'scripts/check-ci-templates.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      const bad = run([broken]);
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(new RegExp(`^${path.relative(ROOT, broken).replace(/[.]/g, '\\.')}:\\d+:\\d+: /steps/4/task: names no task version`, 'm'));
      const good = run([]);
      expect({ status: good.status, stderr: good.stderr }).toEqual({ status: 0, stderr: '' });
      expect(good.stdout.match(/^ok /gm)).toHaveLength(TEMPLATES.length);
    });
  });
});
