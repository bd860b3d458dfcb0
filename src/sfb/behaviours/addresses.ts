import { behaviours } from './behaviour.js';

export const addressesBehaviours = behaviours({});
