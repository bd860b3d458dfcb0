import { describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../../src/errors.js';
import { planLoad } from '../../../src/load/plan.js';
import { openLoadTarget } from '../../../src/load/run.js';
import { parseSuite } from '../../../src/scenario/loader.js';

const SIM = `
suite: s
partner: { domains: [partner.test, other.test], users: [alice] }
target:
  sim:
    domain: contoso.test
    users:
      - { name: erin, pool: legacy, behaviour: echo, xmppAccess: true }
phases: [{ name: p, checks: [{ id: i, kind: im, from: alice, to: erin }] }]
`;

const LAB = `
suite: lab
partner: { domains: [partner.test], users: [alice] }
target:
  gateway:
    domain: contoso.com
    listen: { host: 127.0.0.1, port: 5269 }
    users:
      - { name: echo1, role: echo }
      - { name: watcher, role: accept }
      - { name: echo2, role: echo }
phases: [{ name: p, checks: [{ id: i, kind: im, from: alice, to: echo1 }] }]
`;

const suiteOf = (text: string) => parseSuite(text, 'suite.yaml').suite;

describe('planLoad in the simulation', () => {
  it('spreads N users round-robin over the suite domains, then generated ones, and adds them beside the suite users', () => {
    const plan = planLoad(suiteOf(SIM), { users: 7, domains: 4 }, { sfbUsers: 3 });
    expect(plan.domains).toEqual(['partner.test', 'other.test', 'load3.partner.test', 'load4.partner.test']);
    expect(plan.users.map((u) => u.jid)).toEqual([
      'load-00001@partner.test',
      'load-00002@other.test',
      'load-00003@load3.partner.test',
      'load-00004@load4.partner.test',
      'load-00005@partner.test',
      'load-00006@other.test',
      'load-00007@load3.partner.test',
    ]);
    expect(plan.suite.partner.users).toEqual(['alice', ...plan.users.map((u) => u.jid)]);
    expect(plan.suite.partner.domains).toEqual(plan.domains);
    // The simulated Edge federates with the generated domains through the allowed partner.
    expect(plan.suite.partnerProfile.domain).toBe('partner.test');
    expect(plan.suite.partnerProfile.additionalDomains).toEqual(['other.test', 'load3.partner.test', 'load4.partner.test']);
  });

  it('adds M echo users on the legacy pool with XMPP access, and gives each user one as contact, round-robin', () => {
    const plan = planLoad(suiteOf(SIM), { users: 5, domains: 1 }, { sfbUsers: 2 });
    expect(plan.contacts).toEqual(['load-echo-001@contoso.test', 'load-echo-002@contoso.test']);
    expect(plan.users.map((u) => u.contact)).toEqual([
      'load-echo-001@contoso.test',
      'load-echo-002@contoso.test',
      'load-echo-001@contoso.test',
      'load-echo-002@contoso.test',
      'load-echo-001@contoso.test',
    ]);
    const target = plan.suite.target;
    expect(target.kind === 'sim' && target.sim.users).toEqual([
      { name: 'erin', pool: 'legacy', behaviour: 'echo', xmppAccess: true },
      { name: 'load-echo-001', pool: 'legacy', behaviour: 'echo', xmppAccess: true },
      { name: 'load-echo-002', pool: 'legacy', behaviour: 'echo', xmppAccess: true },
    ]);
  });

  it('defaults to min(N, 50) echo users, and keeps the suite untouched', () => {
    const suite = suiteOf(SIM);
    const before = JSON.stringify(suite);
    expect(planLoad(suite, { users: 3, domains: 1 }).contacts).toHaveLength(3);
    expect(planLoad(suite, { users: 1200, domains: 1 }).contacts).toHaveLength(50);
    expect(JSON.stringify(suite)).toBe(before);
  });

  it('widens the user numbers past 99,999', () => {
    const plan = planLoad(suiteOf(SIM), { users: 100_000, domains: 1 }, { sfbUsers: 1 });
    expect(plan.users[0]!.jid).toBe('load-000001@partner.test');
    expect(plan.users.at(-1)!.jid).toBe('load-100000@partner.test');
  });

  it('refuses more domains than users, and zero users', () => {
    expect(() => planLoad(suiteOf(SIM), { users: 2, domains: 3 })).toThrow(/--domains 3: more domains than users \(2\)/);
    expect(() => planLoad(suiteOf(SIM), { users: 0, domains: 1 })).toThrow(InputError);
  });
});

describe('planLoad against a lab', () => {
  it("writes to the lab's users of role echo, on the suite's own domains", () => {
    const plan = planLoad(suiteOf(LAB), { users: 3, domains: 1 });
    expect(plan.contacts).toEqual(['echo1@contoso.com', 'echo2@contoso.com']);
    expect(plan.users.map((u) => u.contact)).toEqual(['echo1@contoso.com', 'echo2@contoso.com', 'echo1@contoso.com']);
    expect(plan.suite.partner.domains).toEqual(['partner.test']);
    expect(plan.suite.partner.users).toEqual(['alice', 'load-00001@partner.test', 'load-00002@partner.test', 'load-00003@partner.test']);
  });

  it("refuses domains beyond the suite's, since a real Edge allows only the configured ones", () => {
    expect(() => planLoad(suiteOf(LAB), { users: 4, domains: 2 })).toThrow(
      /--domains 2: the lab's Edge allows only the partner domains it was configured with, and the suite has 1 \(partner\.test\)/,
    );
  });

  it('needs a user of role echo', () => {
    const noEcho = LAB.replace(/role: echo/g, 'role: accept').replace('{ id: i, kind: im, from: alice, to: echo1 }', '{ id: i, kind: ping, from: alice }');
    expect(() => planLoad(suiteOf(noEcho), { users: 1, domains: 1 })).toThrow(/no user of role echo/);
  });
});

describe('openLoadTarget', () => {
  it("refuses a restart under load against a lab before starting anything: xfed cannot restart a lab's Edge", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'load-lab-'));
    try {
      const file = path.join(dir, 'lab.yaml');
      await writeFile(file, LAB);
      await expect(openLoadTarget(file, { users: 2, domains: 1, restart: { what: 'edge', atMs: 1000 } }, { runtime: 'process' })).rejects.toThrow(
        new InputError(
          "--restart edge: xfed cannot restart a lab's Edge; restart it by hand during a run without --restart, or rehearse the storm against the simulation",
        ),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
