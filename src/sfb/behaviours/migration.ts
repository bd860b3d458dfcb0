import { behaviours } from './behaviour.js';

export const migrationBehaviours = behaviours({});
