import { behaviours } from './behaviour.js';

export const profileBehaviours = behaviours({});
