-- xfed: the simulated legacy Edge's stream policy, loaded on the component host that stands for
-- the SfB domain. Prosody's own S2S options are global, but SfB's are per allowed partner
-- (New-CsXmppAllowedPartner: TlsNegotiation, SaslNegotiation, SupportDialbackNegotiation,
-- EnableKeepAlive, ConnectionLimit) or the XMPP gateway's (Set-CsXmppGatewayConfiguration:
-- KeepAliveInterval, StreamInactivityTimeout, ConnectionLimit, PartnerConnectionLimit). The global
-- options are left permissive and this module applies each partner's settings to the streams with
-- that partner's domains, by the stream's remote domain, in both directions.
--
-- Every decision is logged on one line starting with "xfed-edge:": the simulation reads them to
-- cite the behaviour it applied (src/targets/sim/edge/legacy-edge.ts).
local st = require "util.stanza";
local add_filter = require "util.filters".add_filter;
local now = require "util.time".now;

-- domain -> { partner = primary domain, tls = "required"|"optional"|"off", sasl = bool,
--             dialback = bool, keepalive = bool, limit = most connections with the partner }
local policies = module:get_option("xfed_partner_policies", {});
local keepalive_interval = module:get_option_number("xfed_keepalive_interval", 300);
local inactivity_timeout = module:get_option_number("xfed_stream_inactivity_timeout", 600);
local connection_limit = module:get_option_number("xfed_connection_limit", 1000);
local partner_connection_limit = module:get_option_number("xfed_partner_connection_limit", 20);

-- A domain on no allowed partner's list gets the cmdlet's defaults (TLS and SASL required, so no
-- dialback) until mod_xfed_allowed_partners refuses it after authentication.
local default_policy = { tls = "required", sasl = true, dialback = false, keepalive = true, limit = partner_connection_limit };

local xmlns_streams = "http://etherx.jabber.org/streams";
local xmlns_tls = "urn:ietf:params:xml:ns:xmpp-tls";
local xmlns_sasl = "urn:ietf:params:xml:ns:xmpp-sasl";
local xmlns_dialback = "urn:xmpp:features:dialback";

local function remote_of(session)
	if session.direction == "outgoing" then return session.to_host; end
	return session.from_host;
end

local function policy_for(domain)
	return (domain and policies[domain]) or default_policy;
end

-- Ended, or closed by one of this module's timers (an incoming stream lingers until the partner closes too).
local function gone(session)
	return session.destroyed or session.type == "s2s_destroyed" or session.xfed_closed;
end

local function without(features, name, xmlns)
	features:maptags(function (tag)
		if tag.name == name and tag.attr.xmlns == xmlns then return nil; end
		return tag;
	end);
end

-- Incoming streams: no STARTTLS at all for a partner whose TLS is NotSupported (mod_tls asks
-- session.ssl_ctx before offering it, and refuses a STARTTLS it did not offer).
module:hook("s2s-stream-features", function (event)
	local session = event.origin;
	if session.type ~= "s2sin_unauthed" then return; end
	if policy_for(session.from_host).tls == "off" then session.ssl_ctx = false; end
end, 100);

-- Incoming streams, once every module has added its features: STARTTLS marked required and
-- offered alone before TLS (RFC 6120 5.3.1) for a partner whose TLS is Required, and SASL
-- EXTERNAL or dialback taken out where the partner's profile rules them out.
module:hook("s2s-stream-features", function (event)
	local session, features = event.origin, event.features;
	if session.type ~= "s2sin_unauthed" then return; end
	local domain = session.from_host;
	local policy = policy_for(domain);
	if policy.tls == "required" and not session.secure then
		features:maptags(function (tag)
			if tag.name == "starttls" and tag.attr.xmlns == xmlns_tls then
				-- mod_tls shares its feature element between sessions: a new one, not a changed one.
				return st.stanza("starttls", { xmlns = xmlns_tls }):tag("required"):up();
			end
			return nil;
		end);
	end
	if not policy.sasl then without(features, "mechanisms", xmlns_sasl); end
	if not policy.dialback then without(features, "dialback", xmlns_dialback); end
	local starttls = features:get_child("starttls", xmlns_tls);
	module:log("info", "xfed-edge: features for %s (%s): STARTTLS %s, SASL EXTERNAL %s, dialback %s", domain or "?",
		session.secure and "over TLS" or "plain",
		starttls and (starttls:get_child("required") and "required" or "offered") or "absent",
		features:get_child("mechanisms", xmlns_sasl) and "offered" or "not offered",
		features:get_child("dialback", xmlns_dialback) and "offered" or "not offered");
end, -100);

-- Outgoing streams: no TLS context for a partner whose TLS is NotSupported (before mod_tls sets one).
module:hook("s2sout-created", function (event)
	local session = event.session;
	if policy_for(session.to_host).tls == "off" then session.ssl_ctx = false; end
end, 10);

-- Outgoing streams, on the partner's features, after mod_tls (500) had its chance to start TLS:
-- TLS Required and not offered closes the stream; SASL EXTERNAL is not tried where ruled out.
module:hook_tag(xmlns_streams, "features", function (session, features)
	if session.type ~= "s2sout_unauthed" then return; end
	local policy = policy_for(session.to_host);
	if policy.tls == "required" and not session.secure then
		module:log("info", "xfed-edge: refusing the stream to %s: TLS is required and it was not offered", session.to_host);
		session:close({ condition = "policy-violation", text = "Encrypted server-to-server communication is required but was not offered" },
			nil, "TLS is required for this partner and it offered none");
		return true;
	end
	if not policy.sasl then without(features, "mechanisms", xmlns_sasl); end
end, 490);

-- Outgoing streams, between mod_saslauth (150, SASL EXTERNAL) and mod_dialback (100): where
-- dialback is ruled out and SASL is not under way, there is no way in.
module:hook_tag(xmlns_streams, "features", function (session)
	if session.type ~= "s2sout_unauthed" or session.external_auth == "attempting" then return; end
	if policy_for(session.to_host).dialback then return; end
	module:log("info", "xfed-edge: refusing the stream to %s: dialback is not allowed and SASL EXTERNAL is not possible", session.to_host);
	session:close({ condition = "unsupported-feature", text = "No viable authentication method offered" }, nil, "dialback is not allowed for this partner");
	return true;
end, 120);

-- A failed SASL EXTERNAL falls back to dialback (mod_dialback, 100) only where dialback is allowed.
module:hook_tag(xmlns_sasl, "failure", function (session)
	if session.type ~= "s2sout_unauthed" or session.external_auth ~= "failed" then return; end
	if policy_for(session.to_host).dialback then return; end
	module:log("info", "xfed-edge: refusing the stream to %s: SASL EXTERNAL failed and dialback is not allowed", session.to_host);
	session:close(nil, nil, "SASL EXTERNAL failed and dialback is not allowed for this partner");
	return true;
end, 110);

-- Prosody's own whitespace keep-alive (after 14 minutes without reading) is for the partners whose
-- EnableKeepAlive is on: the others get none. mod_s2s fires it on the session's host or globally.
local function no_keepalive(event)
	if not policy_for(remote_of(event.session)).keepalive then return true; end
end
module:hook("s2s-read-timeout", no_keepalive, 10);
module:hook_global("s2s-read-timeout", no_keepalive, 10);

-- Authenticated streams, counted per partner and in all, across the components of every SIP domain.
local live = module:shared("/*/xfed_edge_policy/live");
local function count(partner)
	local all, mine = 0, 0;
	for _, p in pairs(live) do
		all = all + 1;
		if p == partner then mine = mine + 1; end
	end
	return all, mine;
end
module:hook_global("s2s-destroyed", function (event)
	local session, reason = event.session, event.reason;
	live[session] = nil;
	-- A closed stream's timers go with it: left to fire, each would keep the session in memory for
	-- up to the timeout (600 s), and a watch opens streams all day.
	for _, t in pairs(session.xfed_timers or {}) do t:stop(); end
	session.xfed_timers = nil;
	-- A failed handshake ends the stream before anything is said on it (Prosody logs it at debug).
	local ours = session.to_host == module.host or session.from_host == module.host;
	if ours and type(reason) == "string" and reason:match("negotiation of encrypted connection") then
		module:log("info", "xfed-edge: TLS with %s failed: %s", remote_of(session) or session.ip or "?", reason);
	end
end);

-- Why one more connection with `domain` would be over a limit, or nil.
local function over_limit(domain)
	local policy = policy_for(domain);
	local partner = policy.partner or domain or "?";
	local all, mine = count(partner);
	if all >= connection_limit then return "ConnectionLimit " .. connection_limit .. " reached"; end
	local limit = policy.limit or partner_connection_limit;
	if mine >= limit then
		return "Connection limit " .. limit .. " reached for partner " .. partner
			.. (policy.limit_from == "ConnectionLimit" and " (ConnectionLimit of the partner)" or " (PartnerConnectionLimit)");
	end
end

-- Refuses a connection over a limit before it authenticates: a stream error sent after SASL
-- success would reach the partner inside its restarted stream, where it reads as a bad stream.
local function refuse_over_limit(session, domain)
	if live[session] then return; end
	local text = over_limit(domain);
	if not text then return; end
	module:log("info", "xfed-edge: refusing the %s stream with %s: %s", session.direction, domain or "?", text);
	session:close({ condition = "resource-constraint", text = text });
	return true;
end

module:hook("stanza/urn:ietf:params:xml:ns:xmpp-sasl:auth", function (event)
	local session = event.origin;
	if session.type == "s2sin_unauthed" and refuse_over_limit(session, session.from_host) then return true; end
end, 10);
module:hook("stanza/jabber:server:dialback:result", function (event)
	local session = event.origin;
	if (session.type == "s2sin_unauthed" or session.type == "s2sin") and refuse_over_limit(session, event.stanza.attr.from) then return true; end
end, 10);
-- The Edge's own streams: before it starts TLS or authenticates.
module:hook_tag(xmlns_streams, "features", function (session)
	if session.type == "s2sout_unauthed" and refuse_over_limit(session, session.to_host) then return true; end
end, 600);

local function watch(session, domain, policy)
	local t = now();
	session.xfed_last_in, session.xfed_last_out, session.xfed_last_stanza = t, t, t;
	add_filter(session, "bytes/in", function (data) session.xfed_last_in = now(); return data; end);
	add_filter(session, "bytes/out", function (data) session.xfed_last_out = now(); return data; end);
	add_filter(session, "stanzas/in", function (stanza) session.xfed_last_stanza = now(); return stanza; end);
	add_filter(session, "stanzas/out", function (stanza) session.xfed_last_stanza = now(); return stanza; end);
	local direction = session.direction;

	-- StreamInactivityTimeout: a stream that carried no stanza for that long is closed; the next
	-- stanza opens a new one (DNS, TLS and authentication again). The close is a plain one (RFC 6120
	-- 4.4): on a stream the partner opened, the Edge still reads what the partner sent before it saw
	-- the close, where a stream error would drop it.
	session.xfed_timers = {};
	session.xfed_timers[1] = module:add_timer(inactivity_timeout, function ()
		if gone(session) then return; end
		local idle = now() - session.xfed_last_stanza;
		if idle < inactivity_timeout - 0.01 then return inactivity_timeout - idle; end
		module:log("info", "xfed-edge: closing the %s stream with %s: no stanza for %s s (StreamInactivityTimeout)", direction, domain, inactivity_timeout);
		session.xfed_closed = true;
		session:close();
	end);

	-- EnableKeepAlive: a whitespace keep-alive (RFC 6120 4.6.1) whenever the Edge has sent nothing
	-- for KeepAliveInterval, and the stream closed when the partner sent nothing for that long.
	if not policy.keepalive then return; end
	session.xfed_timers[2] = module:add_timer(keepalive_interval, function ()
		if gone(session) then return; end
		local t = now();
		if t - session.xfed_last_in >= keepalive_interval - 0.01 then
			module:log("info", "xfed-edge: closing the %s stream with %s: nothing received for %s s (KeepAliveInterval)", direction, domain, keepalive_interval);
			session.xfed_closed = true;
			session:close();
			return;
		end
		if t - session.xfed_last_out >= keepalive_interval - 0.01 then
			module:log("info", "xfed-edge: keep-alive to %s on the %s stream", domain, direction);
			session.sends2s(" ");
		end
		return keepalive_interval;
	end);
end

-- After mod_xfed_allowed_partners (10), before mod_s2s marks the stream authenticated (-1).
module:hook("s2s-authenticated", function (event)
	local session, domain, mechanism = event.session, event.host, event.mechanism;
	local policy = policy_for(domain);
	local refuse;
	if policy.tls == "required" and not session.secure then
		refuse = { condition = "policy-violation", text = "Encrypted server-to-server communication is required but was not used" };
	elseif mechanism == "dialback" and not policy.dialback then
		refuse = { condition = "not-authorized", text = "Dialback is not allowed for this partner" };
	elseif mechanism == "EXTERNAL" and not policy.sasl then
		refuse = { condition = "not-authorized", text = "SASL is not allowed for this partner" };
	end
	if refuse then
		module:log("info", "xfed-edge: refusing the %s stream with %s: %s", session.direction, domain or "?", refuse.text);
		session:close(refuse);
		return false;
	end
	if live[session] then return; end
	-- Two streams that passed the check at once: the second to authenticate is over the limit.
	if refuse_over_limit(session, domain) then return false; end
	live[session] = policy.partner or domain;
	watch(session, domain, policy);
end, 9);
