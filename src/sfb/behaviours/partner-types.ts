import { behaviours } from './behaviour.js';

export const partnerTypesBehaviours = behaviours({});
