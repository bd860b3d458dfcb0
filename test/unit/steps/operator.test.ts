import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { manualStep, runStep } from '../../../src/steps/operator.js';
import type { OperatorOptions, StepTarget } from '../../../src/steps/step.js';

// Operator steps never touch the target.
const target: StepTarget = { deployment: undefined, sfbUser: () => ({ setAvailability: async () => undefined }) };
type Operator = Parameters<typeof manualStep.apply>[0] | Parameters<typeof runStep.apply>[0];
/** What the runner records of an operator step: its one-line description and its output. */
async function runOperatorStep(step: Operator, operator: OperatorOptions): Promise<{ description: string; output: string | undefined }> {
  const output = step.action === 'manual' ? await manualStep.apply(step, { target, operator }) : await runStep.apply(step, { target, operator });
  return { description: step.action === 'manual' ? manualStep.describe(step) : runStep.describe(step), output };
}

const ttyStream = () => Object.assign(new PassThrough(), { isTTY: true }) as unknown as NodeJS.ReadStream;

describe('run steps (hooks)', () => {
  it('records what the command printed', async () => {
    const r = await runOperatorStep({ action: 'run', command: 'echo moved; echo to stderr >&2' }, {});
    expect(r).toEqual({ description: 'run: echo moved; echo to stderr >&2', output: 'moved\nto stderr\n' });
  });

  it('fails with the exit code and the last line of output', async () => {
    await expect(runOperatorStep({ action: 'run', command: 'echo trying; echo "Move-CsUser: access denied" >&2; exit 3' }, {})).rejects.toThrow(
      'the command "echo trying; echo "Move-CsUser: access denied" >&2; exit 3" exited with 3: Move-CsUser: access denied',
    );
  });

  it('kills the whole command when it outlives its timeout', async () => {
    const marker = `xfed-hook-${process.pid}-${Date.now()}`;
    const started = Date.now();
    await expect(runOperatorStep({ action: 'run', command: `sh -c 'sleep 30; echo ${marker}' & wait`, timeout: '300ms' }, {})).rejects.toThrow(
      /timed out after 300 ms/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    const left = (() => {
      try {
        return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' });
      } catch {
        return '';
      }
    })();
    expect(left).toBe('');
  });
});

describe('manual steps', () => {
  it('refuse to wait without a terminal, naming --assume-done', async () => {
    const input = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.ReadStream;
    await expect(runOperatorStep({ action: 'manual', instruction: 'Move erin to the 2019 pool' }, { input })).rejects.toThrow(
      'manual step "Move erin to the 2019 pool" needs an operator: run in a terminal, or pass --assume-done once it is done',
    );
  });

  it('count as done with --assume-done', async () => {
    expect(await runOperatorStep({ action: 'manual', instruction: 'Move erin' }, { assumeDone: true })).toEqual({
      description: 'manual: Move erin',
      output: 'assumed done (--assume-done)',
    });
  });

  it('wait for Enter in a terminal, and say how long it took', async () => {
    const input = ttyStream();
    const output = new PassThrough() as unknown as NodeJS.WriteStream;
    const done = runOperatorStep({ action: 'manual', instruction: 'Renew the Edge certificate' }, { input, output });
    (input as unknown as PassThrough).write('\n');
    expect(await done).toMatchObject({ output: expect.stringMatching(/^confirmed by the operator after \d+ s$/) });
  });

  it('give up after their timeout', async () => {
    const input = ttyStream();
    const output = new PassThrough() as unknown as NodeJS.WriteStream;
    await expect(runOperatorStep({ action: 'manual', instruction: 'Never done', timeout: '200ms' }, { input, output })).rejects.toThrow(
      /timed out after 200 ms waiting for the operator to do "Never done"/,
    );
  });
});
