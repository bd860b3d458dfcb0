import { afterAll, beforeAll, expect, it } from '@jest/globals';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { withDeadline } from '../../src/infra/deadline.js';
import { Inbox } from '../../src/infra/inbox.js';
import { fileReporters } from '../../src/report/files.js';
import { LiveReporter } from '../../src/report/live.js';
import type { Reporter } from '../../src/report/reporter.js';
import type { RunResults } from '../../src/report/results.js';
import { runSuite } from '../../src/runner/run-suite.js';
import { freePort } from '../../src/infra/ports.js';
import type { RuntimeKind } from '../../src/prosody/types.js';
import { parseSuite } from '../../src/scenario/loader.js';
import { startTarget } from '../../src/targets/index.js';
import { stanza, xml, XmppUser, type Element, type SessionEvent } from '../../src/xmpp/client.js';
import { ejabberdGate } from '../helpers/ejabberd-gate.js';
import { labSuite, PARTNER_DOMAIN, SFB_DOMAIN, startLab, type Lab } from '../helpers/gateway-lab.js';
import { RUNTIMES, describeRuntime } from '../helpers/support.js';

// ejabberd sends <system-shutdown/> as it stops, then closes. On a busy machine its reset can
// overtake the stream error (a socket drops unread data on RST): the drop then says ECONNRESET.
const SHUTDOWN_DROP = '(stream error system-shutdown|ECONNRESET)';

// The sessions of the lab users xfed drives, against a lab built as the was: ejabberd as a
// TLS-1.2-only Edge, with its own DNS. A session that drops is said and logged in again; roster
// pushes are acknowledged; the run's partner contacts leave the users' rosters; a failed login
// names what it used.
const ejabberd = ejabberdGate('the lab sessions against ejabberd');

const ROSTER = 'jabber:iq:roster';
const ERIN = `erin@${SFB_DOMAIN}`;

function suiteText(lab: Lab, passwordEnv: string, c2sPort = lab.edge.c2s.port): string {
  return labSuite(lab, {
    name: 'lab-sessions',
    users: `      - { name: xfed.echo, role: echo }
      - name: erin
        role: accept
        login: { passwordEnv: ${passwordEnv}, c2s: { host: 127.0.0.1, port: ${c2sPort} } }`,
    phases: `  - name: p
    checks:
      - { id: ping, kind: ping, from: alice }
`,
  });
}

/** A relay to the Edge's c2s port for one user; `cut` closes it and every connection through it: the Edge is gone for him. */
async function relayToEdgeOf(lab: Lab): Promise<{ port: number; cut: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((inbound) => {
    const outbound = net.connect(lab.edge.c2s.port, lab.edge.c2s.host);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return {
    port: (relay.address() as net.AddressInfo).port,
    cut: async () => {
      const closed = new Promise<void>((resolve) => relay.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

async function rosterOf(user: XmppUser): Promise<string[]> {
  const roster = await user.iq('get', undefined, xml('query', { xmlns: ROSTER }));
  return (roster.getChild('query')?.getChildren('item') ?? []).map((i) => String(i.attrs.jid)).sort();
}

// The lab user's sessions run between xfed and the Edge; how the partner's Prosody runs does not
// touch them, so one runtime is enough (the partner's side runs in both elsewhere).
for (const kind of RUNTIMES.filter((k) => k === 'process')) {
  const body = () => {
    let lab: Lab;
    let erinPassword: string;
    const login = (resource?: string) =>
      XmppUser.connect({ jid: ERIN, password: erinPassword, endpoint: lab.edge.c2s, trustPem: lab.ca.certPem, ...(resource ? { resource } : {}) });
    const start = (notices: Inbox<string>, env = 'XFED_TEST_SESSIONS_PASSWORD', c2sPort?: number) => {
      const { suite } = parseSuite(suiteText(lab, env, c2sPort), path.join(lab.dir, 'sessions.yaml'));
      return startTarget(suite, { runtime: kind as RuntimeKind, notice: (line) => notices.push(line) });
    };
    const relayToEdge = () => relayToEdgeOf(lab);
    beforeAll(async () => {
      ejabberd.check();
      lab = await startLab({ tls12Only: true });
      erinPassword = lab.register('erin');
      process.env.XFED_TEST_SESSIONS_PASSWORD = erinPassword;
    }, 60_000);
    afterAll(async () => {
      delete process.env.XFED_TEST_SESSIONS_PASSWORD;
      await lab?.stop();
    });

    it('the Edge restarts: the drop is said (who, when, why), a check waiting on the user gets that verdict, and the user is back with his presence', async () => {
      const notices = new Inbox<string>();
      const target = await start(notices);
      try {
        const alice = await target.partnerUser('alice');
        // alice is erin's contact, so erin's presence reaches her: proof of the presence resent.
        await alice.sendPresence({ to: ERIN, type: 'subscribe' });
        await alice.waitFor(stanza.presence('subscribed', ERIN), 10_000, 'erin to accept');
        await alice.waitFor(stanza.presence(undefined, ERIN), 10_000, "erin's presence");
        const waiting = target.sfbUser('erin').receivesIm('never sent', { timeoutMs: 30_000 });
        waiting.catch(() => undefined);
        const mark = target.flow.mark();
        const before = new Set(alice.received().map((r) => r.stanza));
        await lab.edge.restart();
        await expect(waiting).rejects.toThrow(new RegExp(`^the session of ${ERIN} dropped at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z: ${SHUTDOWN_DROP}`));
        await notices.waitFor((l) => l.startsWith(`the session of ${ERIN} dropped at `) && new RegExp(SHUTDOWN_DROP).test(l), {
          timeoutMs: 5_000,
          what: 'the drop said',
        });
        const back = await notices.waitFor((l) => l.startsWith(`${ERIN} logged in again`), { timeoutMs: 35_000, what: 'erin back' });
        expect(back).toMatch(/logged in again at .*Z, \d+\.\d s after the drop \(attempt \d\)$/);
        expect(target.flow.since(mark).map((e) => e.label)).toEqual(
          expect.arrayContaining([expect.stringMatching(/^the session of erin@contoso\.test dropped/)]),
        );
        // His presence went out again (a new one, not one alice had), and IMs reach him.
        await alice.waitFor((s) => !before.has(s) && stanza.presence(undefined, ERIN)(s), 35_000, "erin's presence again");
        const received = target.sfbUser('erin').receivesIm('after the restart', { timeoutMs: 20_000 });
        await alice.sendMessage(ERIN, 'after the restart');
        await expect(received).resolves.toBe('received by erin');
      } finally {
        await target.stop();
      }
    }, 120_000);

    it('in a run: the check running when the Edge restarts says the session dropped, and results.json and the console say when and why', async () => {
      const text = suiteText(lab, 'XFED_TEST_SESSIONS_PASSWORD').replace(
        '      - { id: ping, kind: ping, from: alice }\n',
        '      - { id: im-erin, kind: im, from: alice, to: erin, timeout: 3s }\n      - { id: ping, kind: ping, from: alice }\n',
      );
      const { suite } = parseSuite(text, path.join(lab.dir, 'sessions-run.yaml'));
      const out = path.join(lab.dir, `out-sessions-${kind}`);
      let screen = '';
      // The runner awaits its reporters: the Edge is back (listening) before the check starts, and erin still away.
      const restartAt: Reporter = { onCheckBegin: (c) => (c.id === 'im-erin' ? lab.edge.restart() : undefined) };
      const results = await runSuite(suite, {
        runtime: kind,
        reporters: [restartAt, new LiveReporter({ live: false, color: false, write: (t) => (screen += t) }), ...fileReporters(out)],
      });
      const im = results.phases[0]!.checks.find((c) => c.id === 'im-erin')!;
      // The Edge ended erin's session: the system under test's doing, not xfed's.
      expect(im).toMatchObject({
        met: false,
        failure: 'federation',
        actual: expect.stringMatching(new RegExp(`the session of ${ERIN} dropped at .*Z: ${SHUTDOWN_DROP}`)),
      });
      expect(results.phases[0]!.checks.find((c) => c.id === 'ping')!.met).toBe(true);
      const saved = JSON.parse(await readFile(path.join(out, 'results.json'), 'utf8')) as RunResults;
      expect(saved.notices?.map((n) => n.text)).toEqual(
        expect.arrayContaining([expect.stringMatching(new RegExp(`^the session of ${ERIN} dropped at .*: ${SHUTDOWN_DROP}; logging in again$`))]),
      );
      expect(screen).toMatch(new RegExp(`  ! the session of ${ERIN} dropped at `));
      expect(await readFile(path.join(out, 'report.html'), 'utf8')).toContain(`the session of ${ERIN} dropped at`);
    }, 120_000);

    it('an Edge that does not come back: the attempts stop at their bound, the session is given up and says why', async () => {
      const { port, cut } = await relayToEdge();
      const events: SessionEvent[] = [];
      const erin = await XmppUser.connect({
        jid: ERIN,
        password: erinPassword,
        endpoint: { host: '127.0.0.1', port },
        trustPem: lab.ca.certPem,
        available: true,
        reconnect: { attempts: 3, firstDelayMs: 50, maxDelayMs: 200, attemptMs: 2_000, totalMs: 10_000 },
      });
      try {
        const lost = new Promise<void>((resolve) =>
          erin.onSession((e) => {
            events.push(e);
            if (e.kind === 'lost') resolve();
          }),
        );
        const waiting = erin.waitFor(() => false, 30_000, 'nothing');
        waiting.catch(() => undefined);
        await cut();
        await expect(waiting).rejects.toThrow(new RegExp(`^the session of ${ERIN} dropped at `));
        await withDeadline(lost, 10_000, 'the session given up');
        expect(events.map((e) => e.kind)).toEqual(['dropped', 'lost']);
        expect(events[1]).toMatchObject({ attempts: 3, reason: expect.stringMatching(/ECONNREFUSED/) });
        await expect(erin.sendMessage(`xfed.echo@${SFB_DOMAIN}`, 'x')).rejects.toThrow(/not logged in again after 3 attempts: .*ECONNREFUSED/);
      } finally {
        await erin.stop();
      }
    }, 60_000);

    it('an Edge gone at teardown: what could not be removed from the roster is said, naming the user and the contacts', async () => {
      const { port, cut } = await relayToEdge();
      const notices = new Inbox<string>();
      const target = await start(notices, 'XFED_TEST_SESSIONS_PASSWORD', port);
      try {
        const alice = await target.partnerUser('alice');
        await alice.sendPresence({ to: ERIN, type: 'subscribe' });
        await alice.waitFor(stanza.presence('subscribed', ERIN), 10_000, 'erin to accept');
        await cut();
        await notices.waitFor((l) => l.startsWith(`the session of ${ERIN} dropped`), { timeoutMs: 5_000, what: 'the drop' });
      } finally {
        await target.stop();
      }
      expect(notices.since().filter((l) => l.startsWith('could not remove'))).toEqual([
        expect.stringMatching(
          new RegExp(
            `^could not remove the partner contacts the run added to ${ERIN}'s roster \\(alice@${PARTNER_DOMAIN}\\): the session of ${ERIN} dropped at `,
          ),
        ),
      ]);
      // The lab is left as it was for the next test.
      const erin = await login('cleanup');
      await erin.iq('set', undefined, xml('query', { xmlns: ROSTER }, xml('item', { jid: `alice@${PARTNER_DOMAIN}`, subscription: 'remove' })));
      await erin.stop();
    }, 60_000);

    it("a roster push is acknowledged with a result; a forged one from another user is refused; the run's partner contacts leave, the lab's stay", async () => {
      // The lab's own partner contact, there before the run: it stays.
      const before = await login('setup');
      await before.iq('set', undefined, xml('query', { xmlns: ROSTER }, xml('item', { jid: `carol@${PARTNER_DOMAIN}` })));
      const watcher = await login('watcher');
      const answers: Element[] = [];
      watcher.onTraffic((direction, s) => {
        if (direction === 'out' && s.is('iq')) answers.push(s);
      });
      const pushed = watcher.waitFor((s) => s.is('iq') && s.attrs.type === 'set' && s.getChild('query', ROSTER) !== undefined, 10_000, 'a roster push');
      await before.iq('set', undefined, xml('query', { xmlns: ROSTER }, xml('item', { jid: `dave@${PARTNER_DOMAIN}` })));
      const push = (await pushed).stanza;
      const answered = await watcher
        .iq('get', undefined, xml('ping', { xmlns: 'urn:xmpp:ping' }))
        .then(() => answers.find((a) => a.attrs.id === push.attrs.id));
      expect(answered?.attrs.type).toBe('result');
      // A push from someone else (RFC 6121 section 2.1.6) is refused.
      const mallory = await XmppUser.connect({
        jid: `xfed.mallory@${SFB_DOMAIN}`,
        password: lab.register('xfed.mallory'),
        endpoint: lab.edge.c2s,
        trustPem: lab.ca.certPem,
      });
      try {
        const forged = await mallory.iq('set', watcher.jid, xml('query', { xmlns: ROSTER }, xml('item', { jid: `eve@${PARTNER_DOMAIN}` }))).then(
          () => 'result',
          (err: Error) => err.message,
        );
        expect(forged).toMatch(/service-unavailable/);
      } finally {
        await mallory.stop();
      }
      await before.iq('set', undefined, xml('query', { xmlns: ROSTER }, xml('item', { jid: `dave@${PARTNER_DOMAIN}`, subscription: 'remove' })));
      await watcher.stop();

      // A run subscribes alice to erin, then ends: carol stays, alice goes.
      const notices = new Inbox<string>();
      const target = await start(notices);
      try {
        const alice = await target.partnerUser('alice');
        await alice.sendPresence({ to: ERIN, type: 'subscribe' });
        await alice.waitFor(stanza.presence('subscribed', ERIN), 10_000, 'erin to accept');
        expect(await rosterOf(before)).toEqual([`alice@${PARTNER_DOMAIN}`, `carol@${PARTNER_DOMAIN}`]);
      } finally {
        await target.stop();
      }
      expect(await rosterOf(before)).toEqual([`carol@${PARTNER_DOMAIN}`]);
      expect(notices.since()).toEqual([]);
      await before.stop();
    }, 120_000);

    it('a failed login names the endpoint, the CA file and the variable that held the password', async () => {
      process.env.XFED_TEST_WRONG_PASSWORD = 'not-erins-password';
      try {
        await expect(start(new Inbox<string>(), 'XFED_TEST_WRONG_PASSWORD')).rejects.toThrow(
          `cannot log in as ${ERIN} on 127.0.0.1:${lab.edge.c2s.port} (ca: lab-ca.pem): not-authorized (Invalid username or password): check the password in $XFED_TEST_WRONG_PASSWORD`,
        );
      } finally {
        delete process.env.XFED_TEST_WRONG_PASSWORD;
      }
      const closed = await freePort('127.0.0.1');
      await expect(start(new Inbox<string>(), 'XFED_TEST_SESSIONS_PASSWORD', closed)).rejects.toThrow(
        new RegExp(`^cannot log in as ${ERIN} on 127\\.0\\.0\\.1:${closed} \\(ca: lab-ca\\.pem\\): .*ECONNREFUSED`),
      );
    }, 60_000);
  };
  describeRuntime(kind, 'lab users xfed drives, against ejabberd', ejabberd.tests(body));
}
