import type { EdgeCertificate } from './edge/legacy-edge.js';
import type { PartnerProfile } from '../../sfb/partner-profile.js';

/** The pools of the simulated deployment: the legacy one has the XMPP gateway, 2019 has none. */
export const POOLS = ['legacy', 'sfb2019'] as const;
export type PoolName = (typeof POOLS)[number];

/**
 * One migration step, applied live between checks without restarting the partner. Each is what an
 * SfB administrator does on cutover night, and each has the outcome domain.md section 6 predicts.
 */
export type MigrationStep =
  /** Move-CsUser: the 2019 pool has no XMPP gateway, so a moved user's federation breaks. */
  | { action: 'move-user'; user: string; pool: PoolName }
  /** Grant-CsExternalAccessPolicy with or without EnableXmppAccess. */
  | { action: 'set-policy'; user: string; xmppAccess: boolean }
  /** Replace the legacy Edge by a 2019 Edge (no XMPP proxy: S2S refused), or bring it back. */
  | { action: 'replace-edge'; edge: 'sfb2019' | 'legacy' }
  /** Point `_xmpp-server._tcp.<sfb domain>` at the legacy Edge, at the 2019 Edge, or remove it. */
  | { action: 'srv-record'; target: 'legacy-edge' | 'sfb2019-edge' | 'none' }
  /** Renew the legacy Edge's certificate: good, without the bare-domain SAN, expired, untrusted CA. */
  | { action: 'renew-certificate'; certificate: EdgeCertificate }
  /** Remove-CsXmppAllowedPartner. */
  | { action: 'remove-partner'; domain?: string }
  /** New-CsXmppAllowedPartner / Set-CsXmppAllowedPartner: add the partner or change its profile. */
  | { action: 'set-partner'; profile: Partial<PartnerProfile> }
  /** Stop, start or restart the XMPP gateway service on the legacy pool. */
  | { action: 'gateway'; state: 'stopped' | 'started' | 'restarted' }
  /** The network between partner and Edge: cut (connections reset and refused), restored, slowed. */
  | { action: 'network'; state: 'cut' | 'restored' | 'slow'; delayMs?: number };

export type MigrationAction = MigrationStep['action'];

export const MIGRATION_ACTIONS: readonly MigrationAction[] = [
  'move-user',
  'set-policy',
  'replace-edge',
  'srv-record',
  'renew-certificate',
  'remove-partner',
  'set-partner',
  'gateway',
  'network',
];

/** One line that says what a step did, for the live view and the reports. */
export function describeStep(step: MigrationStep): string {
  switch (step.action) {
    case 'move-user':
      return `move ${step.user} to the ${step.pool} pool`;
    case 'set-policy':
      return `${step.xmppAccess ? 'grant' : 'revoke'} EnableXmppAccess for ${step.user}`;
    case 'replace-edge':
      return step.edge === 'sfb2019' ? 'replace the legacy Edge by a 2019 Edge (no XMPP proxy)' : 'bring the legacy Edge back';
    case 'srv-record':
      return step.target === 'none' ? 'remove the _xmpp-server._tcp SRV record' : `point the _xmpp-server._tcp SRV record at the ${step.target}`;
    case 'renew-certificate':
      return `renew the Edge certificate (${step.certificate})`;
    case 'remove-partner':
      return `remove ${step.domain ?? 'the partner'} from the allowed XMPP partners`;
    case 'set-partner':
      return `set the allowed partner profile (${Object.entries(step.profile)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(', ')})`;
    case 'gateway':
      return `${step.state === 'stopped' ? 'stop' : step.state === 'started' ? 'start' : 'restart'} the XMPP gateway`;
    case 'network':
      return step.state === 'slow' ? `slow the partner-Edge link by ${step.delayMs ?? 200} ms per chunk` : `${step.state === 'cut' ? 'cut' : 'restore'} the partner-Edge link`;
  }
}
