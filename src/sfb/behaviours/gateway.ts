import { behaviours } from './behaviour.js';

export const gatewayBehaviours = behaviours({});
