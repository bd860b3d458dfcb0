import { behaviours } from './behaviour.js';

export const presenceBehaviours = behaviours({});
