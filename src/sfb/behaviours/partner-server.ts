import { behaviours } from './behaviour.js';
import { rfc } from './source.js';

/*
 * What the partner's own server (Prosody, as xfed runs it) answers its users when it cannot reach
 * the SfB side. Not Skype for Business behaviour: a suite that expects these conditions states
 * what a Prosody partner sees, and another partner server may bounce differently.
 */
export const partnerServerBehaviours = behaviours({
  'partner-server.unreachable-not-found': {
    does: 'When no SRV target of the SfB domain accepts a connection (the record points at a closed port, is removed, or the domain does not resolve), the partner server bounces the queued stanzas with remote-server-not-found.',
    sources: [
      rfc(
        6120,
        '8.3.3.15 (remote-server-not-found: "does not exist or cannot be resolved (e.g., there is no _xmpp-server._tcp DNS SRV record ... or there is no response on the IANA-registered port 5269)")',
      ),
    ],
    provedBy:
      'test/integration/sim-migration.test.ts › the SRV record pointed at the 2019 Edge breaks S2S; removed, the domain does not resolve; restored, it works',
    partnerDependent:
      "Prosody 0.12's bounce rule for a stream that never opened; another server may answer remote-server-timeout, or nothing until its own timeout.",
  },
  'partner-server.negotiation-failed-timeout': {
    does: 'When a stream to the Edge opens but its negotiation fails (the Edge certificate is not valid for the domain, expired or untrusted, no common TLS version, authentication refused), the partner server bounces the queued stanzas with remote-server-timeout and the reason as text.',
    sources: [
      rfc(
        6120,
        '8.3.3.16 (remote-server-timeout: "an XML stream can be established but stream negotiation fails because of problems with TLS, SASL, Server Dialback, etc.")',
      ),
    ],
    provedBy: 'test/integration/sim-migration.test.ts › a renewed Edge certificate that is %s fails verification: remote-server-timeout, "certificate %s"',
    partnerDependent:
      'Prosody 0.12\'s bounce rule and its wording ("Server-to-server connection failed: ..."); another server may answer remote-server-not-found or undefined-condition.',
  },
  'partner-server.repeated-subscribed-kept': {
    does: "A partner user who subscribes again to a contact he is already subscribed to (after the gateway lost its dialogs) gets no second 'subscribed' from his own server, though the gateway makes a new SIP dialog and presence flows again: the subscribe check reads that as pending.",
    sources: [rfc(6121, '3.1.5 (an inbound subscribed for a contact the user is already subscribed to is not delivered)')],
    provedBy: 'test/integration/cli-run.test.ts › the SfB 2019 cutover rehearsal: every check met, exit 0, and the three report files',
    partnerDependent: "Prosody 0.12 keeps it to itself as RFC 6121 says; a server that delivers it would make the check read 'subscribed'.",
  },
});
