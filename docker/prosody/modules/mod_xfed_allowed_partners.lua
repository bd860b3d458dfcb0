-- xfed: the SfB Edge's allowed XMPP partner list (New-CsXmppAllowedPartner), for the simulated
-- legacy Edge. An S2S stream with a domain that is not on the list is closed right after it
-- authenticates, in both directions, as the Edge refuses federation with unknown partners.
local allowed = module:get_option_set("xfed_allowed_partners", {});
-- Set while the Access Edge refuses all federation (AllowFederatedUsers $false): the reason given.
local refused = module:get_option_string("xfed_federation_refused", nil);

local function check(event)
	local session, host = event.session, event.host;
	if host and refused then
		module:log("warn", "Refusing S2S with %s: %s", host, refused);
		session:close({ condition = "policy-violation"; text = refused });
		return false;
	end
	if host and not allowed:contains(host) then
		module:log("warn", "Refusing S2S with %s: not an allowed XMPP partner of %s", host, module.host);
		session:close({
			condition = "policy-violation";
			text = "Not an allowed XMPP federation partner of " .. module.host;
		});
		return false;
	end
end

-- Before mod_s2s marks the session authenticated (it hooks at priority -1).
module:hook("s2s-authenticated", check, 10);
