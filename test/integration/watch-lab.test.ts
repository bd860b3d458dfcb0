import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readWatchLog } from '../../src/watch/log.js';
import { OVERALL, type RecordOf, type WatchRecord } from '../../src/watch/records.js';
import { startCli } from '../helpers/cli-process.js';
import { ejabberdGate } from '../helpers/ejabberd-gate.js';
import { labSuite, startLab, type Lab } from '../helpers/gateway-lab.js';

const ejabberd = ejabberdGate('the watch of a lab Edge (ejabberd)');

/**
 * A watch of a real Edge that is not Prosody (ejabberd stands in for the lab's legacy Edge): the
 * Edge restarts under it, the user xfed drives on the Edge drops and logs in again, the outage is
 * recorded, and federation comes back without anyone restarting the watch.
 */
describe(
  'xfed watch against a lab Edge that restarts',
  ejabberd.tests(() => {
    let lab: Lab;
    beforeAll(async () => {
      ejabberd.check();
      lab = await startLab();
    }, 120_000);
    afterAll(async () => {
      await lab?.stop();
    });

    it('records the outage of the restart, the drop and the login again of the driven user, and the recovery', async () => {
      const password = lab.register('erin');
      const file = path.join(lab.dir, 'watch-lab.yaml');
      await writeFile(
        file,
        labSuite(lab, {
          name: 'watch-lab',
          users: `      - { name: xfed.echo, role: echo }
      - name: erin
        role: accept
        login: { passwordEnv: XFED_TEST_WATCH_ERIN, c2s: { host: 127.0.0.1, port: ${lab.edge.c2s.port} } }`,
          phases: `  - name: verify
    checks:
      - { id: im-erin, kind: im, from: alice, to: erin, timeout: 2s, body: "to erin, whose password is ${password}" }
      - { id: ping-domain, kind: ping, from: alice, timeout: 2s }
`,
        }),
      );
      const out = path.join(lab.dir, 'watch');
      const watch = startCli(['watch', file, '--interval', '500ms', '--runtime', 'process', '--out', out], { env: { XFED_TEST_WATCH_ERIN: password } });
      try {
        await watch.waitForOutput(/target up in/, 60_000);
        await watch.waitForOutput(/round|Edge /, 30_000);
        await lab.edge.restart();
        await watch.waitForOutput(/federation met -> unmet/, 60_000);
        await watch.waitForOutput(/federation unmet -> met after/, 90_000);
        watch.child.kill('SIGINT');
        expect((await watch.exit(30_000)).code).toBe(130);
      } finally {
        watch.child.kill('SIGKILL');
      }
      expect(watch.stderr()).toBe('');
      const rs: WatchRecord[] = [];
      for await (const r of readWatchLog(out)) rs.push(r);
      const of = <T extends WatchRecord['type']>(type: T) => rs.filter((r) => r.type === type) as RecordOf<T>[];
      // One target for the whole watch: the restart was the Edge's, not xfed's.
      expect(of('ready')).toHaveLength(1);
      const overall = of('transition').filter((t) => t.check === OVERALL);
      expect(overall.map((t) => t.to)).toEqual(['met', 'unmet', 'met']);
      expect(overall[2]!.outageMs).toBeGreaterThan(0);
      // The driven user's drop and login again are in the log, as the target said them.
      const notices = of('notice').map((n) => n.text);
      expect(notices.some((n) => /erin@contoso\.test.*dropped/.test(n))).toBe(true);
      expect(notices.some((n) => /erin@contoso\.test logged in again/.test(n))).toBe(true);
      // The password is in no record.
      expect(JSON.stringify(rs)).not.toContain(password);
    }, 240_000);
  }),
);
