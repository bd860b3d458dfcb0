import type { PartnerType, ResolvedPartnerProfile } from '../../../sfb/partner-profile.js';
import { bareJid, domainOf } from '../mapping/address.js';

/**
 * What the Edge's allowed-partner list says of a partner user (its PartnerType,
 * docs/sfb-xmpp-federation.md section 3), and which partner contacts the SfB users have added.
 */
export class PartnerPolicy {
  /** `sfbUser|partnerBareJid`. */
  private readonly contactsAdded = new Set<string>();

  constructor(private partners: ResolvedPartnerProfile[]) {}

  setPartners(partners: ResolvedPartnerProfile[]): void {
    this.partners = partners;
  }

  typeOf(jid: string): PartnerType | undefined {
    const domain = domainOf(jid);
    return this.partners.find((p) => p.domain === domain || p.additionalDomains.includes(domain))?.partnerType;
  }

  /** A PublicUnverified partner reaches only the SfB users who added him as a contact. */
  mayReach(partnerJid: string, sfbUserJid: string): boolean {
    return this.typeOf(partnerJid) !== 'PublicUnverified' || this.contactsAdded.has(`${bareJid(sfbUserJid)}|${bareJid(partnerJid)}`);
  }

  contactAdded(sfbUser: string, partner: string): void {
    this.contactsAdded.add(`${sfbUser}|${partner}`);
  }

  contactRemoved(sfbUser: string, partner: string): void {
    this.contactsAdded.delete(`${sfbUser}|${partner}`);
  }

  /** PublicVerified partners never see status notes (docs/sfb-xmpp-federation.md section 3). */
  stripsNotes(partnerJid: string): boolean {
    return this.typeOf(partnerJid) === 'PublicVerified';
  }
}
