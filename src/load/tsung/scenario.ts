import type { LoadPlan } from '../profile.js';

/** Where Debian's tsung package puts the DTD its scenarios name. */
export const TSUNG_DTD = '/usr/share/tsung/tsung-1.0.dtd';

/**
 * The IMs start this long after the ramp (from the first session's start): a quarter of the ramp,
 * 2 to 5 s, for the last users to arrive to log in and subscribe. A user still logging in then
 * sends his due IMs late, and the send lag shows it.
 */
function loginAllowanceMs(rampMs: number): number {
  return Math.min(5_000, Math.max(2_000, rampMs / 4));
}

/** Tsung's statistics are dumped this often (ms); its default is 10 s, too coarse for a per-second series. */
export const DUMP_INTERVAL_MS = 1_000;

/** What the scenario needs besides the plan: the client nodes and the files it names. */
export interface ScenarioOptions {
  /** One `<client>` per host; every host runs `nodesPerHost` Erlang client nodes. */
  readonly hosts: readonly string[];
  readonly nodesPerHost: number;
  /** The users file (written by `renderUsers`), absolute. */
  readonly usersPath: string;
}

/** One event of a user's schedule: an IM (`m`) or a presence change (`p`), due this many ms after IMs start. */
interface Due {
  readonly kind: 'm' | 'p';
  readonly atMs: number;
}

/**
 * Each user's share of the open model: IM i (of all users) is due at i / rate after the IMs start,
 * presence change j at j / churn, and both go round-robin over the users, as xfed's own engine
 * schedules them. Tsung runs each user's schedule in his own session, so it needs it per user.
 */
export function schedules(plan: LoadPlan): Due[][] {
  const { rate, durationMs, presenceChurn } = plan.profile;
  const n = plan.users.length;
  const out: Due[][] = Array.from({ length: n }, () => []);
  const ims = Math.max(0, Math.floor((rate * durationMs) / 1000));
  for (let i = 0; i < ims; i++) out[i % n]!.push({ kind: 'm', atMs: Math.round((i * 1000) / rate) });
  const changes = presenceChurn > 0 ? Math.floor((presenceChurn * durationMs) / 1000) : 0;
  for (let j = 0; j < changes; j++) out[j % n]!.push({ kind: 'p', atMs: Math.round((j * 1000) / presenceChurn) });
  for (const s of out) s.sort((a, b) => a.atMs - b.atMs);
  return out;
}

/**
 * The users file Tsung's file server hands out, one line per session in order (`order="iter"`):
 * localpart, domain, SASL PLAIN blob, contact, events, schedule, separated by tabs (no JID holds
 * one; escaped XML holds ';'). The values go into stanzas as they are, so they are escaped for
 * XML here; the PLAIN blob (base64) spares Tsung the password.
 */
export function renderUsers(plan: LoadPlan): string {
  const all = schedules(plan);
  return plan.users
    .map((u, i) => {
      const at = u.jid.lastIndexOf('@');
      const local = u.jid.slice(0, at);
      const domain = u.jid.slice(at + 1);
      const plain = Buffer.from(`\0${local}\0${u.password}`, 'utf8').toString('base64');
      const events = all[i]!;
      const schedule = events.length > 0 ? events.map((e) => `${e.kind}${e.atMs}`).join(',') : 'none';
      const fields = [local, domain, plain, u.contact, String(events.length), schedule].map(xmlText);
      const bad = fields.find((f) => /[\t\r\n]/.test(f));
      if (bad !== undefined) throw new Error(`tsung users file: a field with a tab or a line break cannot go into Tsung's users file: ${bad}`);
      return fields.join('\t');
    })
    .join('\n')
    .concat('\n');
}

/**
 * The Tsung 1.7 scenario of a load plan (validates against Tsung's DTD). Each user is one session
 * of the jabber plugin, written as raw stanzas because the plugin's own types address users on
 * the session's domain only and need a password derived from the user name:
 *
 * - the login (timed by the scenario itself: a sample `xfed_login` when it completed): stream, STARTTLS (the plugin's bidi handler
 *   upgrades the socket on `<proceed/>`), stream, SASL PLAIN, stream, bind, the roster (a
 *   session that never asked for it gets no `subscribed`: Prosody sends that to interested
 *   resources only, RFC 6121 2.1.6), initial presence;
 * - the subscription (a sample `xfed_subscribe`): a subscription to the user's SfB contact, until `subscribed`;
 * - the user's schedule, from one start time t0 for all sessions on every node: the first session
 *   to start sets it on the controller (the ramp and `loginAllowanceMs` after its own start),
 *   the others read it. Each event waits for its due time (a dynamic think time), then sends an
 *   IM (transaction `im`) or a presence change (`presence`), and
 *   records how late it left (`xfed_send_lag`);
 * - until the IMs' end and the grace time after it (the last echoes), then the stream's end.
 *
 * Every IM's body is Tsung's own stamp, made here from the due time rather than the send time
 * (`@@@<hash of the node>,<mega>;<secs>;<micro>@@@`): the echo comes back to the sending
 * node, whose plugin finds the stamp and records `xmpp_msg_latency` from it, i.e. from the
 * scheduled send time to the echo, as xfed measures its round trip.
 */
export function renderScenario(plan: LoadPlan, opts: ScenarioOptions): string {
  const p = plan.profile;
  const n = plan.users.length;
  // Tsung's arrivals are random (exponential gaps) at this mean rate; the phase lasts twice the ramp
  // so that all N arrive (maxnumber ends it), most within the ramp.
  const rampS = Math.max(p.rampMs, 1) / 1000;
  const arrivalRate = n / rampS;
  // Sessions end by themselves; this only bounds a Tsung that hangs (ramp, setup, schedule, grace, slack).
  const maxDurationS = Math.ceil((p.rampMs + p.durationMs + p.graceMs) / 1000) + 60;
  // A session that waits longer than this for an answer (a feature list, the SASL outcome, bind) ends as a timeout.
  const idleMs = 15_000;
  // Tsung's global barrier (ack="global") would start the IMs when every user is in, but a session
  // waits there no longer than the barrier waits for the last user, so one failed login would end
  // every session: a start time shared through the controller does not depend on every login.
  const t0 = [
    'fun(_) ->',
    ' C = node(global:whereis_name(ts_mon)),',
    ' global:trans({xfed_t0, self()}, fun() ->',
    '  case rpc:call(C, application, get_env, [tsung_controller, xfed_t0]) of',
    '   {ok, T} -> T;',
    `   _ -> T = erlang:system_time(millisecond) + ${Math.round(p.rampMs + loginAllowanceMs(p.rampMs))},`,
    '    ok = rpc:call(C, application, set_env, [tsung_controller, xfed_t0, T]), T',
    '  end end)',
    ' end.',
  ].join('');
  const stream = `<stream:stream to='%%_domain%%' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`;
  const clients = opts.hosts
    .map((h) => `    <client host="${attr(h)}" cpu="${opts.nodesPerHost}" maxusers="${Math.max(n, 1) * 2}" use_controller_vm="false"/>`)
    .join('\n');
  const raw = (data: string, ack: string, extra = '', child = '') =>
    `<jabber type="raw" ack="${ack}" data="${attr(data)}"${extra}${child ? `>${child}</jabber>` : '/>'}`;
  // Names the session's user to the plugin, which otherwise takes one from its own numbered pool.
  const whoAmI = '<xmpp_authenticate username="%%_user%%" passwd="%%_user%%"/>';
  const untilMatch = (data: string, regexp: string) => raw(data, 'parse', ` regexp="${attr(regexp)}"`);
  const subscribe = p.subscribe
    ? `
      ${mark('xfed_subscribe_start')}
      <request subst="true">${untilMatch(`<presence to='%%_contact%%' type='subscribe'/>`, `type=['"]subscribed['"]`)}</request>
      ${measure('xfed_subscribe_start', 'xfed_subscribe')}`
    : '';
  // The schedule as a tuple, read once: each event then takes its own in constant time.
  const parsePlan = 'fun({_S, D}) -> {ok, S} = ts_dynvars:lookup(schedule, D), list_to_tuple(string:tokens(binary_to_list(S), ",")) end.';
  // Per event: the kind, the wait until it is due (s, from t0), Tsung's stamp of
  // the due time, and the presence to show (away and back, alternately).
  const next = [
    'fun({_S, D}) ->',
    ' {ok, T0} = ts_dynvars:lookup(t0, D),',
    ' {ok, Plan} = ts_dynvars:lookup(plan, D),',
    ' {ok, I} = ts_dynvars:lookup(i, D),',
    ' [K | Off] = element(I, Plan),',
    ' Due = T0 + list_to_integer(Off),',
    ' Wait = max(0, Due - erlang:system_time(millisecond)),',
    ' Stamp = "@@@" ++ integer_to_list(erlang:phash2(node())) ++ "," ++ integer_to_list(Due div 1000000000) ++ ";"',
    ' ++ integer_to_list((Due div 1000) rem 1000000) ++ ";" ++ integer_to_list((Due rem 1000) * 1000) ++ "@@@",',
    ' Show = case I rem 2 of 1 -> "away"; 0 -> "chat" end,',
    ' [[K], float_to_list(Wait / 1000, [{decimals, 3}]), Stamp, Show, Due]',
    ' end.',
  ].join('');
  // How late the event leaves after its due time: the generator's own lag.
  const lag = [
    'fun({_S, D}) ->',
    ' {ok, Due} = ts_dynvars:lookup(due, D),',
    ' ts_mon_cache:add({sample, xfed_send_lag, max(0, erlang:system_time(millisecond) - Due)}),',
    ' ok end.',
  ].join('');
  // Every session stays until the IMs' end and the grace time after it, whenever its own last event was.
  const untilEnd = [
    'fun({_S, D}) ->',
    ' {ok, T0} = ts_dynvars:lookup(t0, D),',
    ` float_to_list(max(0, T0 + ${Math.round(p.durationMs + p.graceMs)} - erlang:system_time(millisecond)) / 1000, [{decimals, 3}])`,
    ' end.',
  ].join('');
  return `<?xml version="1.0"?>
<!DOCTYPE tsung SYSTEM "${TSUNG_DTD}">
<!-- Generated by xfed load, engine tsung, from its load plan. -->
<tsung loglevel="warning" dumptraffic="false" backend="fullstats" version="1.0">
  <clients>
${clients}
  </clients>
  <servers>
    <server host="${attr(plan.c2s.host)}" port="${plan.c2s.port}" type="tcp"/>
  </servers>
  <load duration="${maxDurationS}" unit="second">
    <arrivalphase phase="1" duration="${2 * Math.max(p.rampMs, 1) + 1_000}" unit="millisecond">
      <users arrivalrate="${round6(arrivalRate)}" unit="second" maxnumber="${n}"/>
    </arrivalphase>
  </load>
  <options>
    <option name="file_server" id="users" value="${attr(opts.usersPath)}"/>
    <option name="idle_timeout" value="${idleMs}"/>
    <option type="ts_jabber" name="userid_max" value="0"/>
  </options>
  <sessions>
    <session name="partner-user" probability="100" type="ts_jabber" bidi="true">
      <setdynvars sourcetype="file" fileid="users" delimiter="&#9;" order="iter">
        <var name="user"/>
        <var name="domain"/>
        <var name="plain"/>
        <var name="contact"/>
        <var name="events"/>
        <var name="schedule"/>
      </setdynvars>
      <setdynvars sourcetype="eval" code="${attr(t0)}">
        <var name="t0"/>
      </setdynvars>
      ${mark('xfed_login_start')}
        <request subst="true">${raw(stream, 'parse', ` regexp="${attr('</stream:features>')}"`, whoAmI)}</request>
        <request><jabber type="starttls" ack="bidi_ack" cacertfile="${attr(plan.trustPath)}"/></request>
        <request subst="true">${untilMatch(stream, '</stream:features>')}</request>
        <request subst="true">
          <match do="abort" when="match" name="not-authorized">&lt;failure</match>
          ${untilMatch(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%%_plain%%</auth>`, '<success|<failure')}
        </request>
        <request subst="true">${untilMatch(stream, '</stream:features>')}</request>
        <request>${untilMatch(`<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>tsung</resource></bind></iq>`, `id=['"]bind['"]`)}</request>
        <request>${untilMatch(`<iq type='get' id='roster'><query xmlns='jabber:iq:roster'/></iq>`, `id=['"]roster['"]`)}</request>
        <request>${raw('<presence/>', 'no_ack')}</request>
      ${measure('xfed_login_start', 'xfed_login')}${subscribe}
      <if var="events" neq="0">
        <setdynvars sourcetype="eval" code="${attr(parsePlan)}">
          <var name="plan"/>
        </setdynvars>
        <for from="1" to="%%_events%%" var="i">
          <setdynvars sourcetype="eval" code="${attr(next)}">
            <var name="kind"/>
            <var name="wait"/>
            <var name="stamp"/>
            <var name="show"/>
            <var name="due"/>
          </setdynvars>
          <thinktime value="%%_wait%%"/>
          <setdynvars sourcetype="eval" code="${attr(lag)}">
            <var name="lag"/>
          </setdynvars>
          <if var="kind" eq="m">
            <transaction name="im">
              <request subst="true">${raw(`<message to='%%_contact%%' type='chat'><body>%%_stamp%%</body></message>`, 'no_ack')}</request>
            </transaction>
          </if>
          <if var="kind" eq="p">
            <transaction name="presence">
              <request subst="true">${raw(`<presence><show>%%_show%%</show></presence>`, 'no_ack')}</request>
            </transaction>
          </if>
        </for>
      </if>
      <setdynvars sourcetype="eval" code="${attr(untilEnd)}">
        <var name="until_end"/>
      </setdynvars>
      <thinktime value="%%_until_end%%"/>
      <request>${raw('</stream:stream>', 'no_ack')}</request>
    </session>
  </sessions>
</tsung>
`;
}

/** Keeps the time a stage began in a session variable. */
function mark(name: string): string {
  return `<setdynvars sourcetype="eval" code="fun(_) -> erlang:system_time(microsecond) end."><var name="${name}"/></setdynvars>`;
}

/**
 * Counts a stage completed and records its time (ms) as a sample of Tsung's statistics. Tsung's
 * transactions would time a stage too, but also record one that ended in a timeout.
 */
function measure(startVar: string, name: string): string {
  const code = `fun({_S, D}) -> {ok, T} = ts_dynvars:lookup(${startVar}, D), ts_mon_cache:add({sample, ${name}, (erlang:system_time(microsecond) - T) / 1000}), ok end.`;
  return `<setdynvars sourcetype="eval" code="${attr(code)}"><var name="${name}_done"/></setdynvars>`;
}

function round6(x: number): string {
  return String(Math.round(x * 1e6) / 1e6);
}

function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

function attr(s: string): string {
  return xmlText(s);
}
