import { behaviours } from './behaviour.js';
import { ms, rfc, xfedChoice } from './source.js';

const MIGRATION_TEST = 'test/integration/sim-migration.test.ts';

export const migrationBehaviours = behaviours({
  'migration.xmpp-access-default-false': {
    does: 'A user without an external access policy of his own follows the global one, whose EnableXmppAccess is False unless the suite grants it (externalAccessPolicy): a user nobody granted it has no XMPP (the pool refuses him as for a policy without it).',
    sources: [
      ms('Set-CsExternalAccessPolicy', 'EnableXmppAccess ... The default value is False.'),
      ms('New-CsXmppAllowedPartner', '(You must also assign your users an external access policy that allows XMPP access.)'),
    ],
    provedBy: 'test/unit/targets/sim/external-access-policy.test.ts › a user nobody granted EnableXmppAccess is refused both ways: its default is False',
  },
  'migration.xmpp-access-required': {
    does: 'A user whose policy has no EnableXmppAccess is out of XMPP both ways: a partner request to him gets 403 from the legacy pool (forbidden at the partner), his own request to a partner fails with a local 403; granting it brings him back.',
    sources: [
      ms(
        'Set-CsExternalAccessPolicy',
        'Indicates whether the user is allowed to communicate with users who have SIP accounts with a federated XMPP (Extensible Messaging and Presence Protocol) partner.',
      ),
      ms('Configure XMPP gateway access policies and certificates', 'configured the access policies to enable users for legacy XMPP Gateway'),
      xfedChoice(
        'the response is undocumented: 403 Forbidden (RFC 3261 section 21.4.4) says the server understood and refuses for policy, and maps to forbidden (RFC 7247 section 7.2)',
      ),
    ],
    provedBy: `${MIGRATION_TEST} › a policy without EnableXmppAccess breaks it for that user only, both ways`,
  },
  'migration.user-on-2019-pool': {
    does: "A user homed on the 2019 pool (Move-CsUser) has no XMPP: the 2019 pool, which has no XMPP gateway, answers partners' requests 403 (forbidden at the partner), and his own request to an XMPP domain fails with a local 404 (no route); moved back to the legacy pool, he federates again.",
    sources: [
      ms(
        'Migrating XMPP federation',
        'users who want to avail the XMPP feature should remain in the legacy server and should not be moved to a Skype for Business Server 2019 pool',
      ),
      ms('Move-CsUser', 'Move-CsUser -Identity "David Pelton" -Target "pool02.contoso.net"'),
      xfedChoice(
        'the status codes are undocumented: 403 for a request the 2019 pool refuses by policy (RFC 3261 section 21.4.4), 404 for a destination it has no route to (section 21.4.5)',
      ),
    ],
    provedBy: `${MIGRATION_TEST} › an XMPP user moved to the 2019 pool loses federation (forbidden), and gets it back when moved back`,
  },
  'migration.partner-removed': {
    does: "Remove-CsXmppAllowedPartner takes the partner off the legacy Edge's allowed list (the Edge restarts to apply it): its S2S streams are closed with policy-violation right after they authenticate, both ways; New-/Set-CsXmppAllowedPartner brings it back, a Set- changing only what it names over the profile in force.",
    sources: [
      ms(
        'New-CsXmppAllowedPartner',
        'If you do not want users communicating with users from a given network then you must delete that network from the allowed partners list.',
      ),
      ms('Set-CsXmppGatewayConfiguration', 'Users can only communicate with an XMPP network if that network has been configured as an allowed partner.'),
      xfedChoice(
        'how the refusal shows on the wire is undocumented: a stream error (RFC 6120 section 4.9.3.12 policy-violation) once the peer has authenticated, so the log names the domain',
      ),
    ],
    provedBy: `${MIGRATION_TEST} › removing the partner from the allowed list refuses its S2S stream; adding it back restores it`,
  },
  'migration.cms-moved': {
    does: "Move-CsManagementServer to the 2019 pool: the XMPP partner's configuration is no longer published to the legacy Edge, which refuses the partner's streams as for a removed partner (xfed's reading); partner settings changed meanwhile are kept, and moved back to the legacy pool, they are published again and federation resumes.",
    sources: [
      ms(
        'Migrating XMPP federation',
        'If you want to continue with the XMPP functionality, you can do so in a coexistence environment with a legacy version (Skype for Business Server 2015 or Lync Server 2013).',
      ),
      ms(
        'Move the central management server',
        'before you can remove the legacy server, you need to move the Central Management Server to the Skype for Business Server 2019 Front End Server or pool.',
      ),
      ms('Move-CsManagementServer', 'You need to decommission the existing management pool, and must transfer the Central Management Server before doing so.'),
      xfedChoice(
        "Microsoft documents the move and that XMPP lives on only in coexistence with the legacy deployment, not what the move does to XMPP. xfed reads the seed's condition (XMPP works only while the partner is configured on 2015/2013) as ended by it: the store becomes the 2019 deployment's, which has no XMPP, and the move is the step before decommissioning the legacy pool",
      ),
    ],
    provedBy: `${MIGRATION_TEST} › the central management store moved to the 2019 pool takes the partner configuration off the legacy Edge; moved back, it works`,
  },
  'migration.edge-replaced': {
    does: "A 2019 Edge in place of the legacy one (replace-edge): the legacy Edge's XMPP proxy is gone and the SRV record points at the 2019 Edge, where nothing serves XMPP, so every partner's S2S connection fails; the legacy Edge back, it works.",
    sources: [
      ms(
        'Migrating XMPP federation',
        'You should not migrate the legacy Edge Server to Skype for Business Server 2019 if you want to continue with XMPP functionality.',
      ),
      ms('Migrating XMPP federation', 'The XMPP functionality is no longer available and is deprecated in Skype for Business Server 2019.'),
    ],
    provedBy: `${MIGRATION_TEST} › a 2019 Edge in place of the legacy one has no XMPP proxy: S2S refused for everyone`,
  },
  'migration.gateway-stopped': {
    does: "The legacy pool's XMPP Translating Gateway service stopped: the gateway leaves the Edge, partners' stanzas to SfB users get the Edge's error for a component that is not connected, SfB users' IMs to partners get 503; started, it attaches again.",
    sources: [
      ms(
        'Port summary - XMPP federation in Lync Server 2013',
        'Internal XMPP traffic from the XMPP Gateway on the Front End Server or Front End pool to the Edge Server',
      ),
      rfc(3261, '21.5.4 (503 Service Unavailable)'),
      xfedChoice(
        "what a stopped gateway looks like from outside is undocumented: the Edge's own answer for a missing component, and 503 from the gateway's SIP side",
      ),
    ],
    provedBy: `${MIGRATION_TEST} › a stopped gateway: the Edge answers "Component unavailable"; started again, it works`,
  },
  'migration.network-link': {
    does: 'The network step changes the link between the partner and the Edge, not Skype for Business: cut resets the open S2S connections and refuses new ones, restored opens the link again, slow delays every chunk it carries.',
    sources: [
      xfedChoice(
        "a test instrument for what a cutover night does to the network (a firewall change, an outage, latency); no SfB behaviour is involved, and what the partner user is told is its own server's doing",
      ),
    ],
    provedBy: `${MIGRATION_TEST} › a cut link fails S2S; restored, it works; slowed, IM still arrives, later`,
    partnerDependent: "the error a partner user gets for a cut link is the partner server's (Prosody answers remote-server-not-found)",
  },
});
