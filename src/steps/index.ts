import { z } from 'zod';
import { FAULT_STEP_KINDS } from './faults.js';
import { MIGRATION_STEP_KINDS } from './migration.js';
import { manualStep, runStep } from './operator.js';
import { setAvailabilityStep } from './set-availability.js';
import type { StepKind } from './step.js';

/** Every step kind, in the order the format lists them: the suite schema and the runner know steps only through this list. */
export const STEP_KINDS = [...MIGRATION_STEP_KINDS, ...FAULT_STEP_KINDS, setAvailabilityStep, manualStep, runStep] as const;

type Kind = (typeof STEP_KINDS)[number];
const [first, ...rest] = STEP_KINDS.map((k): Kind['schema'] => k.schema);

export const Step = z.discriminatedUnion('action', [first!, ...rest]);
export type Step = z.infer<typeof Step>;

/** The steps that change the simulated side (migrations and faults), which `SimTopology.apply` takes from code too. */
export type MigrationStep = z.infer<(typeof MIGRATION_STEP_KINDS)[number]['schema'] | (typeof FAULT_STEP_KINDS)[number]['schema']>;

const byAction = new Map<string, StepKind<Step>>(STEP_KINDS.map((k) => [k.action, k]));

/** The definition of a step's kind. */
export function stepKindOf(step: Step): StepKind<Step> {
  return byAction.get(step.action)!;
}

export type { Deployment, OperatorOptions, SimFault, StepKind, StepTarget } from './step.js';
