import { behaviours } from './behaviour.js';

export const modalitiesBehaviours = behaviours({});
