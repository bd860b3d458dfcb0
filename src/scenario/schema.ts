import { z } from 'zod';
import { Check } from '../checks/index.js';
import { Name } from '../infra/format.js';
import { PartnerSpec } from '../partner/spec.js';
import { Step } from '../steps/index.js';
import { LabSpec } from '../targets/lab/spec.js';
import { SimSpec } from '../targets/sim/spec.js';

/**
 * The suite format: the one source of truth. It is assembled from the sections each part describes
 * itself (the partner, each target, each check and step kind), validates suite files, gives the
 * TypeScript types (`Suite`, `Check`, ...) and is exported as JSON Schema (`xfed schema`) for
 * editors. Objects are strict: an unknown key is an error, never ignored.
 */

const Target = z
  .strictObject({ sim: SimSpec.optional(), gateway: LabSpec.optional() })
  .describe('What xfed federates with: sim (the simulated legacy side) or gateway (a real legacy Edge); exactly one');

export const Phase = z.strictObject({
  name: Name,
  description: z.string().optional(),
  steps: z.array(Step).optional(),
  checks: z.array(Check).optional(),
});

export const Suite = z.strictObject({
  suite: Name.describe('The suite name (used in report paths)'),
  description: z.string().optional(),
  partner: PartnerSpec,
  target: Target,
  phases: z.array(Phase).min(1),
});

export type Suite = z.infer<typeof Suite>;
export type Phase = z.infer<typeof Phase>;

/** The JSON Schema of suite files (`xfed schema`), for editors' completion and underlining. */
export function suiteJsonSchema(): Record<string, unknown> {
  return {
    ...(z.toJSONSchema(Suite, { target: 'draft-7', unrepresentable: 'any' }) as Record<string, unknown>),
    $id: 'https://xfed.invalid/schema/suite.json',
    title: 'xfed suite',
  };
}
