import { behaviours } from './behaviour.js';

export const errorsBehaviours = behaviours({});
