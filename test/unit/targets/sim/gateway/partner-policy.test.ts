import { describe, expect, it } from '@jest/globals';
import { resolvePartnerProfile, type PartnerType } from '../../../../../src/sfb/partner-profile.js';
import { PartnerPolicy } from '../../../../../src/targets/sim/gateway/partner-policy.js';

const policy = (partnerType: PartnerType, cited: string[] = []) =>
  new PartnerPolicy([resolvePartnerProfile({ domain: 'partner.test', additionalDomains: ['other.test'], partnerType })], (id) => cited.push(id));

describe('PartnerPolicy (docs/sfb-xmpp-federation.md section 3)', () => {
  it('knows the partner type of every domain of the profile, and none of other domains', () => {
    const p = policy('PublicVerified');
    expect([p.typeOf('a@partner.test/pc'), p.typeOf('b@other.test'), p.typeOf('c@elsewhere.test')]).toEqual(['PublicVerified', 'PublicVerified', undefined]);
  });

  it.each<[PartnerType, boolean, boolean]>([
    ['Federated', true, false],
    ['PublicVerified', true, true],
    ['PublicUnverified', false, true],
  ])('%s: reaches an SfB user who did not add him: %s; notes stripped: %s', (type, reaches, strips) => {
    const cited: string[] = [];
    const p = policy(type, cited);
    expect([p.mayReach('a@partner.test/pc', 'erin@contoso.test'), p.stripsNotes('a@partner.test')]).toEqual([reaches, strips]);
    const notes = { Federated: 'federated-sees-notes', PublicVerified: 'public-verified-no-notes', PublicUnverified: 'public-unverified-no-notes' }[type];
    expect(cited).toEqual([...(reaches ? [] : ['partner-types.public-unverified-needs-contact']), `partner-types.${notes}`]);
  });

  it('PublicUnverified reaches exactly the SfB users who added him, until they remove him', () => {
    const p = policy('PublicUnverified');
    p.contactAdded('erin@contoso.test', 'a@partner.test');
    expect([
      p.mayReach('a@partner.test/pc', 'erin@contoso.test/x'),
      p.mayReach('a@partner.test', 'leo@contoso.test'),
      p.mayReach('b@partner.test', 'erin@contoso.test'),
    ]).toEqual([true, false, false]);
    p.contactRemoved('erin@contoso.test', 'a@partner.test');
    expect(p.mayReach('a@partner.test', 'erin@contoso.test')).toBe(false);
  });

  it('follows a new partner list', () => {
    const p = policy('PublicUnverified');
    p.setPartners([resolvePartnerProfile({ domain: 'partner.test', partnerType: 'Federated' })]);
    expect([p.typeOf('a@partner.test'), p.typeOf('a@other.test')]).toEqual(['Federated', undefined]);
  });
});
