import { existsSync } from 'node:fs';
import { Federation } from '../partner/federation.js';
import type { PartnerServer } from '../partner/partner-server.js';
import type { RuntimeChoice } from '../partner/types.js';
import { XmppUser } from '../xmpp/client.js';
import { sendIm, subscribeAndApprove } from '../xmpp/exchange.js';
import { EXIT, bold, dim, green, red, say } from './output.js';

/**
 * `xfed demo` (npm run demo): two partner domains federate over real S2S with CA certificates and
 * SASL EXTERNAL; IM both ways and a presence subscription prove it. Issue 3/4 turns this into the
 * SfB cutover rehearsal.
 */
export async function runDemo(opts: { runtime: RuntimeChoice; baseImage?: string }): Promise<number> {
  const proved: string[] = [];
  const failed: string[] = [];
  const check = (ok: boolean, line: string) => {
    (ok ? proved : failed).push(line);
    say(`  ${ok ? green('✓') : red('✗')} ${line}`);
  };

  say(bold('xfed demo: two XMPP partner domains federating over real S2S'));
  const t0 = performance.now();
  const federation = await Federation.start({ runtime: opts.runtime, ...(opts.baseImage ? { baseImage: opts.baseImage } : {}) });
  const users: XmppUser[] = [];
  let workDirs: string[] = [];
  try {
    say(dim(`  runtime: ${federation.kind} (ready in ${(performance.now() - t0).toFixed(0)} ms)`));
    const security = { tls: 'required', auth: 'certificate', certificates: 'ca', secureAuth: true } as const;
    const started = async (domain: string, user: string): Promise<PartnerServer> => {
      const t = performance.now();
      const p = await federation.addPartner({ domains: [domain], users: [user], s2s: security });
      check(true, `started Prosody for ${domain} in ${(performance.now() - t).toFixed(0)} ms (c2s ${p.c2s.host}:${p.c2s.port})`);
      return p;
    };
    const north = await started('north.test', 'alice');
    const south = await started('south.test', 'bob');
    workDirs = [north.workDir, south.workDir];

    const login = async (p: PartnerServer, name: string) => {
      const a = p.account(name);
      const u = await XmppUser.connect({ jid: a.jid, password: a.password, endpoint: p.c2s, trustPem: p.trustPem, available: true });
      users.push(u);
      return u;
    };
    const alice = await login(north, 'alice');
    const bob = await login(south, 'bob');
    check(true, 'alice@north.test and bob@south.test logged in over STARTTLS, verified against the run\'s test CA');

    const first = await sendIm(alice, bob, 'Hello across the federation');
    check(first.delivered, first.delivered
      ? `IM alice -> bob delivered over a new S2S link in ${first.ms.toFixed(1)} ms`
      : `IM alice -> bob was not delivered: ${first.error} ${first.errorText ?? ''}`);
    const back = await sendIm(bob, alice, 'And back — «ça marche» <ok> & done');
    check(back.delivered, back.delivered
      ? `IM bob -> alice (non-ASCII and XML special characters) delivered in ${back.ms.toFixed(1)} ms`
      : `IM bob -> alice was not delivered: ${back.error}`);
    // Each direction is its own S2S stream; each receiving server logs how it authenticated the other.
    const external = /Accepting SASL EXTERNAL identity from/;
    await Promise.all([north.waitForLog(external, 2_000), south.waitForLog(external, 2_000)]);
    check(true, 'both S2S streams (north -> south, south -> north) authenticated with SASL EXTERNAL over TLS');
    const sub = await subscribeAndApprove(alice, bob);
    check(true, `alice subscribed to bob's presence: approved and bob's presence seen in ${sub.ms.toFixed(1)} ms`);
  } catch (err) {
    check(false, (err as Error).message);
  } finally {
    for (const u of users) await u.stop();
    await federation.stop();
  }
  const leftovers = workDirs.filter((d) => existsSync(d));
  check(leftovers.length === 0, leftovers.length === 0 ? 'torn down: servers stopped, network and work directories removed' : `left behind: ${leftovers.join(', ')}`);
  say();
  say(failed.length === 0 ? green(bold(`Proved ${proved.length} facts; federation works.`)) : red(bold(`${failed.length} of ${proved.length + failed.length} did not hold.`)));
  return failed.length === 0 ? EXIT.ok : EXIT.unmet;
}
