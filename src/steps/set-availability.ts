import { z } from 'zod';
import { UserName } from '../infra/format.js';
import { SfbAvailability } from '../sfb/availability.js';
import { defineStep } from './step.js';

/** An SfB user publishes an availability (and a note): simulated over SIP, or a lab user xfed drives. */
export const setAvailabilityStep = defineStep({
  action: 'set-availability',
  fields: { user: UserName, availability: SfbAvailability, note: z.string().optional() },
  appliesTo: 'any',
  sfbUserField: 'user',
  sfbUserActs: (s) => `${s.user} sets an availability`,
  describe: (s) => `${s.user} sets ${s.availability}${s.note ? ` ("${s.note}")` : ''}`,
  apply: (s, ctx) => ctx.target.sfbUser(s.user).setAvailability(s.availability, s.note),
});
