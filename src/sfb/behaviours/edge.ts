import { behaviours } from './behaviour.js';

export const edgeBehaviours = behaviours({});
