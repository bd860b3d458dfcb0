import { suiteJsonSchema } from '../scenario/schema.js';
import { processOutput, type CommandOutput } from './validate.js';

/** `xfed schema`: the JSON Schema of suite files, for editors (yaml-language-server and the like). */
export function runSchema(out: CommandOutput = processOutput): number {
  out.stdout(`${JSON.stringify(suiteJsonSchema(), null, 2)}\n`);
  return 0;
}
