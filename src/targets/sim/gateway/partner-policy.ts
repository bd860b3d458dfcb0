import type { Cite } from '../../../sfb/behaviours/log.js';
import type { PartnerType, ResolvedPartnerProfile } from '../../../sfb/partner-profile.js';
import { bareJid, domainOf } from '../mapping/address.js';

/**
 * What the Edge's allowed-partner list says of a partner user (its PartnerType,
 * docs/sfb-xmpp-federation.md section 3), and which partner contacts the SfB users have added.
 */
export class PartnerPolicy {
  /**
   * `sfbUser|partnerBareJid`. It stands for the SfB users' contact lists, which SfB keeps in the
   * pool's database: a restart of the gateway service does not forget it.
   */
  private readonly contactsAdded = new Set<string>();

  constructor(
    private partners: ResolvedPartnerProfile[],
    private readonly cite: Cite = () => {},
  ) {}

  setPartners(partners: ResolvedPartnerProfile[]): void {
    this.partners = partners;
  }

  typeOf(jid: string): PartnerType | undefined {
    const domain = domainOf(jid);
    return this.partners.find((p) => p.domain === domain || p.additionalDomains.includes(domain))?.partnerType;
  }

  /** A PublicUnverified partner reaches only the SfB users who added him as a contact. */
  mayReach(partnerJid: string, sfbUserJid: string): boolean {
    const reaches = this.typeOf(partnerJid) !== 'PublicUnverified' || this.contactsAdded.has(`${bareJid(sfbUserJid)}|${bareJid(partnerJid)}`);
    if (!reaches) this.cite('partner-types.public-unverified-needs-contact');
    return reaches;
  }

  contactAdded(sfbUser: string, partner: string): void {
    this.contactsAdded.add(`${sfbUser}|${partner}`);
  }

  contactRemoved(sfbUser: string, partner: string): void {
    this.contactsAdded.delete(`${sfbUser}|${partner}`);
  }

  /** Asked where a status note would go out: only Federated partners see notes (docs/sfb-xmpp-federation.md section 3). */
  stripsNotes(partnerJid: string): boolean {
    switch (this.typeOf(partnerJid)) {
      case 'PublicVerified':
        this.cite('partner-types.public-verified-no-notes');
        return true;
      case 'PublicUnverified':
        this.cite('partner-types.public-unverified-no-notes');
        return true;
      case 'Federated':
        this.cite('partner-types.federated-sees-notes');
        return false;
      default:
        return false;
    }
  }
}
