import { Step, stepKindOf } from '../../src/steps/index.js';
import type { Deployment, StepTarget } from '../../src/steps/step.js';

/** A deployment that records what the steps ask of it and answers each call with a line. */
export function recordingDeployment(): { deployment: Deployment; calls: unknown[][] } {
  const calls: unknown[][] = [];
  const deployment = new Proxy({} as Deployment, {
    get:
      (_t, name: string) =>
      async (...args: unknown[]) => {
        calls.push([name, ...args]);
        return `${name} done`;
      },
  });
  return { deployment, calls };
}

/** An SfB user as a step target offers him, doing nothing. */
export const idleSfbUser = () => ({ setAvailability: async () => undefined });

/** Parses a step as a suite would and applies it: its describe line, where it applies, and what it said. */
export async function applyStep(raw: unknown, target: StepTarget) {
  const step = Step.parse(raw);
  const kind = stepKindOf(step);
  return { description: kind.describe(step), appliesTo: kind.appliesTo, output: await kind.apply(step, { target, operator: {} }) };
}
