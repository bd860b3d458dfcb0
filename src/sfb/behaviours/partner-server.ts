import { behaviours } from './behaviour.js';

export const partnerServerBehaviours = behaviours({});
