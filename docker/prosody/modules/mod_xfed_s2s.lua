-- xfed's hooks in a partner Prosody.
local st = require "util.stanza";

-- One info line per authenticated S2S stream, with its mechanism, in both directions. Prosody
-- logs an outgoing stream's SASL EXTERNAL or dialback success at debug level only, and a partner
-- facing a real Edge has no Edge log to read: its own log must say how it got in.
module:hook("s2s-authenticated", function(event)
	local session = event.session;
	session.log("info", "xfed: %s s2s stream %s->%s authenticated with %s", session.direction or "?",
		session.from_host or "?", session.to_host or "?", event.mechanism or "?");
end, 20);

-- <iq type='set'><close xmlns='urn:xfed:s2s' host='DOMAIN'/></iq> from a local user to his own
-- server closes the outgoing S2S stream to DOMAIN, so that the next stanza opens a new one. Against
-- a real gateway there is no relay on the link to reset; this is how xfed observes a fresh stream.
module:hook("iq-set/host/urn:xfed:s2s:close", function(event)
	local origin, stanza = event.origin, event.stanza;
	if origin.type ~= "c2s" or origin.host ~= module.host then return; end
	local to = stanza.tags[1].attr.host;
	local session = to and hosts[module.host].s2sout[to];
	if session then
		module:log("info", "xfed: closing the outgoing s2s stream %s->%s on request", module.host, to);
		session:close();
	end
	origin.send(st.reply(stanza):tag("closed", { xmlns = "urn:xfed:s2s", count = session and "1" or "0" }));
	return true;
end);
