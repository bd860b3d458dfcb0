import { z } from 'zod';
import type { XmppShow } from '../sip/pidf.js';

/**
 * SfB aggregate availability (docs/sfb-xmpp-federation.md section 5) and the one documented mapping the simulated
 * gateway uses to XMPP. Microsoft documents none, so it is configurable per pool.
 */
export const SFB_AVAILABILITIES = ['Available', 'Busy', 'DoNotDisturb', 'BeRightBack', 'Away', 'Offline'] as const;
export type SfbAvailability = (typeof SFB_AVAILABILITIES)[number];
export const SfbAvailability = z.enum(SFB_AVAILABILITIES);

export const SFB_AVAILABILITY_CODES: Record<SfbAvailability, number> = {
  Available: 3500,
  Busy: 6500,
  DoNotDisturb: 9500,
  BeRightBack: 12500,
  Away: 15500,
  Offline: 18500,
};

export type ShowMapping = Record<SfbAvailability, { basic: 'open' | 'closed'; show?: XmppShow }>;

export const DEFAULT_SHOW_MAPPING: ShowMapping = {
  Available: { basic: 'open' },
  Busy: { basic: 'open', show: 'dnd' },
  DoNotDisturb: { basic: 'open', show: 'dnd' },
  BeRightBack: { basic: 'open', show: 'away' },
  Away: { basic: 'open', show: 'xa' },
  Offline: { basic: 'closed' },
};

/**
 * The state a code falls in. The two idle ranges have no state of their own here: 4500-5999
 * (Available-Idle, shown yellow as "Inactive" by the client) is Away, 7500-8999 (Busy-Idle) Busy.
 */
export function availabilityFromCode(code: number): SfbAvailability {
  if (!Number.isFinite(code) || code < 0) throw new RangeError(`SfB availability code must be a non-negative number, got ${code}`);
  if (code < 6000) return code < 4500 ? 'Available' : 'Away';
  if (code < 9000) return 'Busy';
  if (code < 12000) return 'DoNotDisturb';
  if (code < 15000) return 'BeRightBack';
  if (code < 18000) return 'Away';
  return 'Offline';
}
