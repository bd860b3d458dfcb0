import { behaviours } from './behaviour.js';
import { ms, rfc, xfedChoice } from './source.js';

const WATCHES_OF_SFB_TEST = 'test/unit/targets/sim/gateway/watches-of-sfb.test.ts';
const WATCHES_OF_PARTNER_TEST = 'test/unit/targets/sim/gateway/watches-of-partner.test.ts';
const NOTIFIER_TEST = 'test/unit/targets/sim/pool/presence-notifier.test.ts';
const CONTACTS_TEST = 'test/unit/targets/sim/pool/contacts.test.ts';
const POOL_TEST = 'test/unit/targets/sim/pool/pool.test.ts';
const PRESENCE_TEST = 'test/integration/sim-presence.test.ts';

export const presenceBehaviours = behaviours({
  // ---- partner users watching SfB users: the gateway subscribes (RFC 8048 section 5.2) ----
  'presence.xmpp-subscribe': {
    does: "A partner user's subscribe becomes a SUBSCRIBE to the legacy pool (Event presence, Accept application/pidf+xml); the first active NOTIFY becomes subscribed, then the presence it carries; a pending one says nothing to the partner.",
    sources: [rfc(8048, '5.2.1')],
    provedBy: `${WATCHES_OF_SFB_TEST} › sends a SUBSCRIBE for presence to the pool; an active NOTIFY becomes subscribed, then the presence`,
  },
  'presence.gateway-subscription-interval': {
    does: "The gateway's SUBSCRIBEs ask SubscriptionRefreshInterval, 28800 s (a suite's subscriptionExpires shortens it so tests see refreshes).",
    sources: [
      ms(
        'Set-CsXmppGatewayConfiguration',
        'SubscriptionRefreshInterval: Maximum amount of time (in seconds) that can elapse before the partner must refresh its presence subscription. The default value is 28800 seconds (8 hours).',
      ),
      rfc(6665, '4.1.2.2'),
    ],
    provedBy: `${WATCHES_OF_SFB_TEST} › sends a SUBSCRIBE for presence to the pool; an active NOTIFY becomes subscribed, then the presence`,
  },
  'presence.refresh-permanent-failure': {
    does: 'A refresh answered 403, 489 or 603 ends the subscription for good: the partner user gets unsubscribed.',
    sources: [rfc(8048, '5.2.2')],
    provedBy: `${WATCHES_OF_SFB_TEST} › a refresh answered %i ends it for good: unsubscribed`,
  },
  'presence.refresh-transient-retry': {
    does: 'A refresh that fails for a passing reason (408, 480, 5xx, no answer) leaves the subscription standing and is tried again, after 1 s, then doubling up to 60 s; if the grant runs out meanwhile the partner user is told unavailable (not unsubscribed), and presence comes back when a retry succeeds.',
    sources: [
      rfc(8048, '5.2.2'),
      rfc(6665, '4.1.2.2'),
      xfedChoice('neither RFC 6665 nor Microsoft gives retry intervals: 1 s doubling to 60 s keeps a pool restart from costing more than a minute of presence'),
    ],
    provedBy: `${WATCHES_OF_SFB_TEST} › a refresh answered %i is retried with growing waits, and the partner is told unavailable once the grant runs out`,
  },
  'presence.refresh-new-dialog': {
    does: 'A refresh answered 481 (the pool no longer knows the dialog) becomes a new subscription at once; one answered 423 is sent again asking the Min-Expires.',
    sources: [rfc(6665, '4.1.2.2'), rfc(3261, '21.4.17')],
    provedBy: `${WATCHES_OF_SFB_TEST} › a refresh answered 481 starts a new subscription; 423 asks again for the Min-Expires`,
  },
  'presence.deactivated-resubscribe': {
    does: 'A NOTIFY terminated;reason=deactivated (the subscription moves to another node), reason=timeout or no reason makes the gateway subscribe again at once, in a new dialog, telling the partner nothing unless that fails.',
    sources: [rfc(6665, '4.1.3')],
    provedBy: `${WATCHES_OF_SFB_TEST} › a NOTIFY terminated;reason=%s subscribes again at once, in a new dialog, and tells the partner nothing`,
  },
  'presence.probation-retry': {
    does: 'A NOTIFY terminated;reason=probation makes the gateway subscribe again after its retry-after.',
    sources: [rfc(6665, '4.1.3')],
    provedBy: `${WATCHES_OF_SFB_TEST} › probation subscribes again after its retry-after`,
  },
  'presence.terminated-unsubscribed': {
    does: 'A NOTIFY terminated with reason rejected, noresource, invariant or giveup ends the subscription: the partner user gets unsubscribed.',
    sources: [rfc(6665, '4.1.3'), rfc(8048, '5.2.1')],
    provedBy: `${WATCHES_OF_SFB_TEST} › a NOTIFY %s becomes unsubscribed, and ends the dialog`,
  },
  'presence.xmpp-unsubscribe': {
    does: "A partner user's unsubscribe ends the SIP dialog (SUBSCRIBE Expires 0 in it); after its 200 the partner user gets unsubscribed, and the pool's final NOTIFY is answered 200.",
    sources: [rfc(8048, '5.2.3'), rfc(6665, '4.1.2.3')],
    provedBy: `${WATCHES_OF_SFB_TEST} › unsubscribe ends the dialog (SUBSCRIBE Expires 0 in it), then says unsubscribed; the final NOTIFY is answered 200`,
  },
  'presence.probe-poll': {
    does: "A partner's presence probe becomes a SUBSCRIBE with Expires 0; its one NOTIFY becomes presence, and no dialog is kept.",
    sources: [rfc(8048, '7.1')],
    provedBy: `${WATCHES_OF_SFB_TEST} › a probe is a SUBSCRIBE with Expires 0; its one NOTIFY becomes presence and keeps no dialog`,
  },
  'presence.content-language': {
    does: "A NOTIFY's Content-Language becomes the presence's xml:lang, and a partner presence's xml:lang the NOTIFY's Content-Language.",
    sources: [rfc(8048, '6.2 Table 1'), rfc(8048, '6.3')],
    provedBy: `${WATCHES_OF_SFB_TEST} › a NOTIFY's Content-Language becomes xml:lang; a From with a GRUU makes the presence come from a full JID`,
  },
  'presence.gruu-full-jid': {
    does: 'Presence from an SfB user whose NOTIFY From carries a GRUU (;gr=) comes from the full JID (the GRUU as resource); otherwise from the bare JID.',
    sources: [rfc(7572, '5'), rfc(7247, '6.3')],
    provedBy: `${WATCHES_OF_SFB_TEST} › a NOTIFY's Content-Language becomes xml:lang; a From with a GRUU makes the presence come from a full JID`,
  },
  'presence.availability-mapping': {
    does: "An SfB user's availability becomes PIDF basic and XMPP show by one configurable mapping (default: Available none, Busy and DoNotDisturb dnd, BeRightBack away, Away xa, Offline closed); his note becomes the PIDF note.",
    sources: [
      xfedChoice(
        "Microsoft documents no mapping between SfB availability and XMPP <show/>; RFC 8048 section 6.3 reads dnd as merely busy, so the mapping is xfed's, and a suite can change it (showMapping)",
      ),
      ms('state availability element', 'Microsoft Lync 2013 uses the following availability ranges'),
    ],
    provedBy: `${NOTIFIER_TEST} › NOTIFYs every active watcher with the mapped PIDF; pending ones hear nothing`,
  },

  // ---- SfB users watching partner users: the gateway notifies (RFC 8048 section 5.3) ----
  'presence.sip-subscribe': {
    does: "An SfB user's SUBSCRIBE to a partner user gets 202 and a pending NOTIFY at once, then the partner user gets subscribe; subscribed makes it active, unsubscribed ends it as terminated;reason=rejected.",
    sources: [rfc(8048, '5.3.1'), rfc(6665, '4.2.1')],
    provedBy: `${WATCHES_OF_PARTNER_TEST} › 202 with a dialog, a pending NOTIFY at once to the subscriber Contact, then subscribe to the partner user`,
  },
  'presence.sip-refresh-notify': {
    does: "A refresh of an SfB user's subscription gets 200 and a NOTIFY with what the gateway knows (PIDF when active).",
    sources: [rfc(8048, '5.3.2'), rfc(6665, '4.2.1.2')],
    provedBy: `${WATCHES_OF_PARTNER_TEST} › a refresh in the dialog is granted what it asks and followed by a NOTIFY with the state known`,
  },
  'presence.sip-unsubscribe-unavailable': {
    does: 'An SfB user who removes a partner contact (SUBSCRIBE Expires 0 in the dialog) gets a last NOTIFY with PIDF closed and terminated;reason=timeout; the partner user gets unavailable, not unsubscribe.',
    sources: [rfc(8048, '5.3.3')],
    provedBy: `${WATCHES_OF_PARTNER_TEST} › Expires 0 in the dialog (the contact removed): a last NOTIFY with PIDF closed, terminated;reason=timeout, and unavailable to the partner user`,
  },
  'presence.sip-poll-probe': {
    does: 'An SfB SUBSCRIBE with Expires 0 out of any dialog is a poll: the partner user gets a probe, and one NOTIFY (terminated;reason=timeout) carries the answer; unsubscribed becomes reason=rejected, no answer within the bound a NOTIFY without a body.',
    sources: [
      rfc(8048, '7.2'),
      rfc(6665, '4.4.3'),
      xfedChoice('what a poll says when the probe is not answered is undocumented: the NOTIFY carries no state rather than a guessed one'),
    ],
    provedBy: `${WATCHES_OF_PARTNER_TEST} › an Expires 0 SUBSCRIBE out of a dialog is a poll: an XMPP probe, and one NOTIFY with its answer`,
  },
  'presence.resource-tuples': {
    does: "A partner user's resources each get a PIDF tuple (id ID-<resource>, the full JID as contact): one going offline drops its tuple and leaves the contact open while another is online; the last one leaves a closed tuple.",
    sources: [rfc(8048, '6.2 Table 1 note 2'), rfc(3863, '4.1')],
    provedBy: `${WATCHES_OF_PARTNER_TEST} › several resources: one tuple each (ID-<resource>), and one going offline leaves the contact open`,
  },
  'presence.priority': {
    does: "A resource's XMPP priority becomes its PIDF contact priority: 0 to 127 onto 0 to 1 (three decimals, each value distinct); a negative priority is not mapped.",
    sources: [rfc(8048, '6.2 Table 1')],
    provedBy: 'test/unit/targets/sim/gateway/presence-mapping.test.ts › priority becomes the contact priority from 0 to 1; a negative one is not mapped',
  },
  'presence.pidf-mapping': {
    does: "XMPP presence and PIDF map both ways: no type is open, unavailable is closed, status is the note (with its language), show travels as <show xmlns='jabber:client'> in the tuple.",
    sources: [rfc(8048, '6.2 Table 1'), rfc(8048, '6.3 Table 2'), rfc(3863, '4.1.1')],
    provedBy: 'test/unit/targets/sim/gateway/presence-mapping.test.ts › open with show and a note: show and status (with its language)',
  },

  // ---- the pool as notifier and subscriber (RFC 6665) ----
  'presence.pool-subscription-expiry': {
    does: "The pool grants 28800 s when a SUBSCRIBE asks none, raises a shorter request to 1200 s and lowers a longer one to 43200 s (it does not refuse with 423). A suite's subscriptionExpires replaces the default and, when shorter, the minimum too.",
    sources: [
      ms(
        'Set-CsUserServicesConfiguration',
        'If no such request is issued, then the subscription is set to the value specified by the DefaultSubscriptionExpiration property.',
      ),
      ms(
        'Set-CsUserServicesConfiguration',
        'if the minimum time is set to 1200 seconds and a client requests a timeout interval of 200 seconds, the client will be given the minimum allowed expiration period: 1200 seconds.',
      ),
      ms('Set-CsUserServicesConfiguration', 'MaxSubscriptionExpiration ... The default value is 43200 seconds (12 hours).'),
      xfedChoice(
        'a shortened subscriptionExpires lowers the minimum with the default, or refreshes could not be seen within a test; Microsoft allows 300 s at the least',
      ),
    ],
    provedBy: `${NOTIFIER_TEST} › grants the documented lifetimes: 28800 by default, at least 1200, at most 43200`,
  },
  'presence.pool-probe-answer': {
    does: 'The pool answers a SUBSCRIBE with Expires 0 (a probe) with one NOTIFY terminated;reason=timeout carrying the current state, and keeps no subscription.',
    sources: [rfc(6665, '4.4.3')],
    provedBy: `${NOTIFIER_TEST} › a probe (Expires 0) gets one NOTIFY with the current state, terminated;reason=timeout, and leaves no subscription`,
  },
  'presence.pool-refresh-notify': {
    does: 'The pool answers a refresh with 200 and a NOTIFY with the current state.',
    sources: [rfc(6665, '4.2.1.2')],
    provedBy: `${NOTIFIER_TEST} › a refresh gets 200 and a NOTIFY with the current state; Expires 0 ends it with a final NOTIFY; then 481`,
  },
  'presence.pool-notify-refused-ends': {
    does: 'A NOTIFY the watcher refuses (481, say, from a gateway that lost the dialog) ends that subscription at the pool.',
    sources: [rfc(6665, '4.2.2')],
    provedBy: `${NOTIFIER_TEST} › a NOTIFY the watcher refuses ends the subscription (RFC 6665 4.2.2)`,
  },
  'presence.sfb-refresh-new-subscription': {
    does: "An SfB user's client refreshes its subscriptions before they expire; a refresh answered 481 makes it subscribe anew.",
    sources: [rfc(6665, '4.1.2.2')],
    provedBy: `${CONTACTS_TEST} › refreshes before expiry; a refresh answered 481 subscribes anew`,
  },

  // ---- moves, policies and restarts ----
  'presence.moved-user-deactivated': {
    does: "Move-CsUser ends the moved user's presence subscriptions on his old pool with NOTIFY terminated;reason=deactivated; the gateway subscribes again at once, the 2019 pool refuses it (403) and the partner watcher gets unsubscribed; moved back, a new subscription works.",
    sources: [
      rfc(6665, '4.1.3'),
      ms(
        'Migrating XMPP federation',
        'users who want to avail the XMPP feature should remain in the legacy server and should not be moved to a Skype for Business Server 2019 pool',
      ),
      xfedChoice(
        'Microsoft does not say what becomes of a moved user\'s subscriptions; RFC 6665 names "deactivated" for a subscription moving to another node, and what the partner then sees follows RFC 8048 section 5.2.2',
      ),
    ],
    provedBy: `${PRESENCE_TEST} › a moved user's watchers see the break: deactivated, the new SUBSCRIBE refused, unsubscribed; moved back, a new subscription works`,
  },
  'presence.moved-user-contacts': {
    does: "A moved user's (or a user whose policy changed) own subscriptions to partner users end on his old pool (SUBSCRIBE Expires 0: the partner user gets unavailable) and his client subscribes again from his new home: from the 2019 pool that fails locally (404).",
    sources: [
      xfedChoice(
        "Microsoft is silent; a moved user's client signs in at its new pool and subscribes to its contacts again, so the old dialogs end and the new ones follow the new home's rules",
      ),
      rfc(8048, '5.3.3'),
    ],
    provedBy: `${POOL_TEST} › a move ends the user's watchers as deactivated and his contacts' dialogs, and his contacts subscribe again from his new home`,
  },
  'presence.policy-revoked-rejected': {
    does: "Revoking a user's EnableXmppAccess ends his XMPP watchers' subscriptions with NOTIFY terminated;reason=rejected (the partner watcher gets unsubscribed); SfB watchers keep theirs.",
    sources: [
      rfc(6665, '4.1.3'),
      ms(
        'Set-CsExternalAccessPolicy',
        'Indicates whether the user is allowed to communicate with users who have SIP accounts with a federated XMPP (Extensible Messaging and Presence Protocol) partner.',
      ),
    ],
    provedBy: `${POOL_TEST} › a revoked EnableXmppAccess ends XMPP watchers as rejected, not SfB ones`,
  },
  'presence.gateway-restart-state-lost': {
    does: "A stopped or restarted gateway service loses the SIP dialogs it held: the pool's next NOTIFY gets 481 and ends that subscription, so the partner's presence stops until his server probes again; an SfB user's next refresh gets 481 and his client subscribes anew.",
    partnerDependent:
      "what brings a partner's presence back is his server's next probe: Prosody probes at a new session of the partner user, and when an SfB user he watches subscribes to him again",
    sources: [
      xfedChoice(
        'Microsoft does not document what the XMPP gateway service keeps across a restart; xfed keeps its dialogs in memory only, the loss a restart can cause, and RFC 6665 sections 4.1.2.2 and 4.2.2 say what each side then does',
      ),
      rfc(6665, '4.2.2'),
    ],
    provedBy: `${PRESENCE_TEST} › the gateway service restarted: its dialogs are lost; NOTIFYs get 481, SfB users subscribe anew, a new session probes presence back`,
  },
});
