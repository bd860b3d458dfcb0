import type { Behaviour } from './behaviour.js';
import { addressesBehaviours } from './addresses.js';
import { edgeBehaviours } from './edge.js';
import { errorsBehaviours } from './errors.js';
import { gatewayBehaviours } from './gateway.js';
import { imBehaviours } from './im.js';
import { migrationBehaviours } from './migration.js';
import { modalitiesBehaviours } from './modalities.js';
import { partnerServerBehaviours } from './partner-server.js';
import { partnerTypesBehaviours } from './partner-types.js';
import { presenceBehaviours } from './presence.js';
import { profileBehaviours } from './profile.js';

/** The areas of the catalogue, in the order docs/sfb-behaviours.md shows them, with their headings. */
export const AREAS = [
  { title: 'Allowed-partner profile, negotiation and TLS', rows: profileBehaviours },
  { title: 'Edge, DNS, certificates and routes', rows: edgeBehaviours },
  { title: 'Partner types', rows: partnerTypesBehaviours },
  { title: 'Addresses (RFC 7247 section 6)', rows: addressesBehaviours },
  { title: 'Instant messages (RFC 7572)', rows: imBehaviours },
  { title: 'Presence (RFC 8048)', rows: presenceBehaviours },
  { title: 'Errors (RFC 7247 section 7)', rows: errorsBehaviours },
  { title: 'Modalities', rows: modalitiesBehaviours },
  { title: 'Pools, policies and migration', rows: migrationBehaviours },
  { title: 'XMPP gateway service, timers and limits', rows: gatewayBehaviours },
  { title: "The partner's own server", rows: partnerServerBehaviours },
] as const;

/** Every behaviour the simulation encodes, by id. */
export const BEHAVIOURS = {
  ...profileBehaviours,
  ...edgeBehaviours,
  ...partnerTypesBehaviours,
  ...addressesBehaviours,
  ...imBehaviours,
  ...presenceBehaviours,
  ...errorsBehaviours,
  ...modalitiesBehaviours,
  ...migrationBehaviours,
  ...gatewayBehaviours,
  ...partnerServerBehaviours,
} satisfies Record<string, Behaviour>;

export type BehaviourId = keyof typeof BEHAVIOURS;

export const behaviourOf = (id: string): Behaviour | undefined => (BEHAVIOURS as Record<string, Behaviour>)[id];

export type { Behaviour } from './behaviour.js';
export { MICROSOFT_PAGES, sourceText, type Source } from './source.js';
