import { behaviours } from './behaviour.js';

export const imBehaviours = behaviours({});
