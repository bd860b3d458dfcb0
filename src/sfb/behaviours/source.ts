/**
 * Where a behaviour of the simulation comes from: a Microsoft page, an RFC section, or xfed's own
 * choice where both are silent (with the reason). Microsoft wins over the RFC where it speaks.
 */
export type Source =
  | { kind: 'microsoft'; page: MicrosoftPage; says?: string }
  | { kind: 'rfc'; rfc: number; section: string }
  | { kind: 'xep'; xep: number; section?: string }
  | { kind: 'xfed'; reason: string };

/** The Microsoft pages the catalogue cites, by the short name rows use. */
export const MICROSOFT_PAGES = {
  'New-CsXmppAllowedPartner': 'https://learn.microsoft.com/powershell/module/skypeforbusiness/new-csxmppallowedpartner',
  'Set-CsXmppGatewayConfiguration': 'https://learn.microsoft.com/powershell/module/skypeforbusiness/set-csxmppgatewayconfiguration',
  'Set-CsExternalAccessPolicy': 'https://learn.microsoft.com/powershell/module/skypeforbusiness/set-csexternalaccesspolicy',
  'Set-CsUserServicesConfiguration': 'https://learn.microsoft.com/powershell/module/skypeforbusiness/set-csuserservicesconfiguration',
  'Set-CsAccessEdgeConfiguration': 'https://learn.microsoft.com/powershell/module/skypeforbusiness/set-csaccessedgeconfiguration',
  'Set-CsSite': 'https://learn.microsoft.com/powershell/module/skypeforbusiness/set-cssite',
  'Test-CsXmppIM': 'https://learn.microsoft.com/powershell/module/skypeforbusiness/test-csxmppim',
  'Negotiation settings for XMPP federated partners in Lync Server 2013':
    'https://learn.microsoft.com/en-us/previous-versions/office/lync-server-2013/lync-server-2013-negotiation-settings-for-xmpp-federated-partners',
  'Create or edit XMPP partner configuration in Lync Server 2013':
    'https://learn.microsoft.com/en-us/previous-versions/office/lync-server-2013/lync-server-2013-create-or-edit-xmpp-partner-configuration',
  'Setting up XMPP federation in Lync Server 2013':
    'https://learn.microsoft.com/en-us/previous-versions/office/lync-server-2013/lync-server-2013-setting-up-xmpp-federation',
  'Example XMPP configuration - federation with Google Talk':
    'https://learn.microsoft.com/en-us/previous-versions/office/lync-server-2013/lync-server-2013-example-xmpp-configuration-–-xmpp-federation-with-google-talk',
  'Port summary - XMPP federation in Lync Server 2013':
    'https://learn.microsoft.com/en-us/previous-versions/office/lync-server-2013/lync-server-2013-port-summary-extensible-messaging-and-presence-protocol-xmpp-federation',
  'Certificate summary - XMPP federation in Lync Server 2013':
    'https://learn.microsoft.com/en-us/previous-versions/office/lync-server-2013/lync-server-2013-certificate-summary-extensible-messaging-and-presence-protocol-xmpp-federation',
  'Failing over the Edge pool used for Lync Server 2013 XMPP federation':
    'https://learn.microsoft.com/en-us/previous-versions/office/lync-server-2013/lync-server-2013-failing-over-the-edge-pool-used-for-xmpp-federation',
  'Move-CsUser': 'https://learn.microsoft.com/powershell/module/skypeforbusiness/move-csuser',
  'Move-CsManagementServer': 'https://learn.microsoft.com/powershell/module/skypeforbusiness/move-csmanagementserver',
  'Federation Route Settings Expander (Topology Builder)':
    'https://learn.microsoft.com/en-us/skypeforbusiness/help-topics/help-topobld/federation-route-settings-expander',
  'Migration to Skype for Business Server 2019': 'https://learn.microsoft.com/en-us/skypeforbusiness/migration/migration-to-skype-for-business-server-2019',
  'Migration phases': 'https://learn.microsoft.com/en-us/skypeforbusiness/migration/migration-phases',
  'Move the central management server': 'https://learn.microsoft.com/en-us/skypeforbusiness/migration/move-the-central-management-server',
  'Update DNS SRV records': 'https://learn.microsoft.com/en-us/skypeforbusiness/migration/update-dns-srv-records',
  'Migrating XMPP federation': 'https://learn.microsoft.com/en-us/skypeforbusiness/migration/migrating-xmpp-federation',
  'Configure federation routes and media traffic': 'https://learn.microsoft.com/en-us/skypeforbusiness/migration/configure-federation-routes-and-media-traffic',
  'Configure XMPP gateway access policies and certificates':
    'https://learn.microsoft.com/en-us/skypeforbusiness/migration/configure-xmpp-gateway-access-policies-and-certificates',
  'Configure XMPP gateway': 'https://learn.microsoft.com/en-us/skypeforbusiness/migration/configure-xmpp-gateway',
  'Encryption for Skype for Business Server': 'https://learn.microsoft.com/en-us/skypeforbusiness/plan-your-deployment/security/encryption',
  'state availability element': 'https://learn.microsoft.com/en-us/lync/schema/state-availability-element',
} as const;
export type MicrosoftPage = keyof typeof MICROSOFT_PAGES;

export const ms = (page: MicrosoftPage, says?: string): Source => ({ kind: 'microsoft', page, ...(says ? { says } : {}) });
export const rfc = (n: number, section: string): Source => ({ kind: 'rfc', rfc: n, section });
export const xep = (n: number, section?: string): Source => ({ kind: 'xep', xep: n, ...(section ? { section } : {}) });
export const xfedChoice = (reason: string): Source => ({ kind: 'xfed', reason });

/** A source in one line of text, for the catalogue and the reports. */
export function sourceText(s: Source): string {
  switch (s.kind) {
    case 'microsoft':
      return `Microsoft, "${s.page}" (${MICROSOFT_PAGES[s.page]})${s.says ? `: "${s.says}"` : ''}`;
    case 'rfc':
      return `RFC ${s.rfc} section ${s.section} (https://www.rfc-editor.org/rfc/rfc${s.rfc})`;
    case 'xep':
      return `XEP-${String(s.xep).padStart(4, '0')}${s.section ? ` section ${s.section}` : ''} (https://xmpp.org/extensions/xep-${String(s.xep).padStart(4, '0')}.html)`;
    case 'xfed':
      return `xfed's choice: ${s.reason}`;
  }
}

/** Which of the three kinds a source counts as, for the catalogue's totals (an XEP counts with the RFCs). */
export const sourceKind = (s: Source): 'Microsoft' | 'RFC' | "xfed's choice" =>
  s.kind === 'microsoft' ? 'Microsoft' : s.kind === 'xfed' ? "xfed's choice" : 'RFC';
