import { behaviours } from './behaviour.js';
import { ms, rfc, xfedChoice } from './source.js';

const GW19 = 'Configure XMPP gateway';
const CPANEL = 'Create or edit XMPP partner configuration in Lync Server 2013';
const NOTIFIER_TEST = 'test/unit/targets/sim/pool/presence-notifier.test.ts';
const WATCHES_OF_SFB_TEST = 'test/unit/targets/sim/gateway/watches-of-sfb.test.ts';

export const partnerTypesBehaviours = behaviours({
  'partner-types.federated-no-approval': {
    does: "A Federated partner user's subscription is approved by the pool without the SfB user acting: a user who never answers ('silent') is subscribed all the same. The pool reads the partner type from the allowed-partner list as steps change it.",
    sources: [
      ms(GW19, 'Add contacts and view their presence without express authorization from the user.'),
      ms(CPANEL, 'A Federated partner type is a trusted connection between a Lync Server or Office Communications Server 2007 R2 partner deployment.'),
    ],
    provedBy: `${NOTIFIER_TEST} › Federated and PublicVerified partners are approved without the user acting, even by a user who never answers`,
  },
  'partner-types.public-verified-no-approval': {
    does: "A PublicVerified partner user's subscription is approved by the pool without the SfB user acting, as a Federated one's.",
    sources: [
      ms(
        GW19,
        'XMPP contacts in Public Verified networks can add Skype for Business Server contacts and view their presence and send instant messages to them without express authorization from the Skype for Business Server users.',
      ),
    ],
    provedBy: `${NOTIFIER_TEST} › Federated and PublicVerified partners are approved without the user acting, even by a user who never answers`,
  },
  'partner-types.public-unverified-needs-contact': {
    does: 'A PublicUnverified partner user reaches only the SfB users who added him as a contact: until then his IM is refused (forbidden), his subscription waits, and his presence probe reveals nothing.',
    sources: [
      ms(
        GW19,
        'XMPP users on Public Unverified networks cannot communicate with users unless the user has expressly authorized them by adding them to the contact list.',
      ),
      ms(CPANEL, 'A Lync user must invite the unverified contact for that contact to be able to add the Lync user to his contact list.'),
    ],
    provedBy: 'test/integration/sim-presence.test.ts › PublicUnverified: IM refused and the subscription held until the SfB user adds the partner',
  },
  'partner-types.public-unverified-subscription-held': {
    does: "A PublicUnverified partner user's subscribe to an SfB user who has not added him is held, not refused (nothing goes back), and goes to the pool when the SfB user adds him; an unsubscribe drops it.",
    sources: [
      ms(
        GW19,
        'XMPP users on Public Unverified networks cannot communicate with users unless the user has expressly authorized them by adding them to the contact list.',
      ),
      xfedChoice(
        'Microsoft does not say what the partner user sees meanwhile; holding the request is the pending state RFC 6121 section 3.1 allows a contact to leave a request in, and the add is the authorization that releases it',
      ),
    ],
    provedBy:
      "test/unit/targets/sim/gateway/watches-of-partner.test.ts › a partner user's subscription is held, not refused, until the SfB user adds him; then it goes to the pool",
  },
  'partner-types.public-unverified-added-authorizes': {
    does: "Once an SfB user has added a PublicUnverified partner user, that partner user's subscription is approved by the pool without the user acting again; without the contact it stays pending.",
    sources: [
      ms(GW19, 'cannot communicate with users unless the user has expressly authorized them by adding them to the contact list'),
      ms(CPANEL, 'A GTalk user will not be able to add the Lync user as a contact unless there is an explicit invite sent from the Lync user.'),
    ],
    provedBy: `${NOTIFIER_TEST} › a PublicUnverified partner is approved once the user has him as a contact, and waits (pending) otherwise`,
  },
  'partner-types.public-unverified-probe-unsubscribed': {
    does: 'A presence probe from a PublicUnverified partner user the SfB user has not added is answered unsubscribed by the gateway, with no SIP request: no presence and no status note leak through a probe.',
    sources: [
      ms(
        GW19,
        'XMPP users on Public Unverified networks cannot communicate with users unless the user has expressly authorized them by adding them to the contact list.',
      ),
      rfc(6121, '4.3.2'),
    ],
    provedBy: `${WATCHES_OF_SFB_TEST} › a probe from a PublicUnverified partner user nobody added is answered unsubscribed, with no SIP`,
  },
  'partner-types.federated-sees-notes': {
    does: "A Federated partner user sees the SfB user's status note (PIDF note -> XMPP status).",
    sources: [ms(GW19, "See a user's status notes.")],
    provedBy: `${WATCHES_OF_SFB_TEST} › sends a SUBSCRIBE for presence to the pool; an active NOTIFY becomes subscribed, then the presence`,
  },
  'partner-types.public-verified-no-notes': {
    does: 'A PublicVerified partner user gets presence without status notes: the gateway strips the note.',
    sources: [ms(GW19, "XMPP contacts in public verified networks never see a users' status notes.")],
    provedBy: `${WATCHES_OF_SFB_TEST} › %s partners get presence without status notes`,
  },
  'partner-types.public-unverified-no-notes': {
    does: 'A PublicUnverified partner user gets presence without status notes, even once added: the gateway strips the note.',
    sources: [ms(GW19, "XMPP users on public unverified networks never see users' status notes.")],
    provedBy: `${WATCHES_OF_SFB_TEST} › %s partners get presence without status notes`,
  },
  'partner-types.blocked-contact': {
    does: "A user scripted 'reject' has blocked the watcher: his subscription ends at once as terminated;reason=rejected (unsubscribed at the partner), whatever the partner type.",
    sources: [
      xfedChoice(
        'SfB has no per-request refusal, it has blocking; Microsoft does not document what the gateway tells a blocked XMPP contact, so xfed ends the subscription as RFC 6665 "rejected" (a change in authorization policy), which the gateway turns into unsubscribed',
      ),
      rfc(6665, '4.1.3'),
    ],
    provedBy: `${NOTIFIER_TEST} › a user who blocked the watcher (reject) ends the subscription as rejected, whatever the partner type`,
  },
});
