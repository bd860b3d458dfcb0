import { expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countEveryStamp, jabberPluginCountingEvery, TSUNG_APP } from '../../../src/load/tsung/plugin.js';
import { describeWithTool } from '../../helpers/tool-gate.js';

describeWithTool('tsung', "Tsung's jabber plugin, counting every echo of a chunk", () => {
  it('replaces message_bidi of the installed Tsung 1.7 plugin, and nothing else', () => {
    const source = readFileSync(join(TSUNG_APP, 'src', 'ts_jabber.erl'), 'utf8');
    const patched = countEveryStamp(source)!;
    expect(patched).toContain('[global, {capture, all_but_first, list}]');
    expect(patched).not.toContain('{match, [NodeStamp]} = re:run');
    const around = (s: string) => s.split(/message_bidi\(RcvdXml, State\) ->[\s\S]*?\{nodata, State, think\}\.\n/);
    expect(around(patched)).toEqual(around(source));
    expect(countEveryStamp('-module(ts_jabber).\nmessage_bidi(Xml, S) -> ok.\n')).toBeUndefined();
  });

  it('builds a plugin that records a latency for each stamp of this node in one chunk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xfed-tsung-plugin-'));
    try {
      expect(await jabberPluginCountingEvery(join(dir, 'plugin'))).toBe(join(dir, 'plugin'));
      // Three echoes in one chunk, two of them stamped on this node: two samples for Tsung's statistics.
      const program = [
        `code:add_patha(${JSON.stringify(join(dir, 'plugin'))}),`,
        'register(ts_mon_cache, self()),',
        'N = integer_to_list(erlang:phash2(node())),',
        'Body = fun(Stamp) -> "<message><body>@@@" ++ Stamp ++ "@@@</body></message>" end,',
        'Chunk = Body(N ++ ",1;2;3") ++ Body(N ++ ",1;2;4") ++ Body("1,1;2;5"),',
        '{nodata, st, think} = ts_jabber:message_bidi(Chunk, st),',
        'Count = fun C(K) -> receive {_, {add, {sample, xmpp_msg_latency, _}}} -> C(K + 1) after 0 -> K end end,',
        'io:format("~p", [Count(0)]), halt().',
      ].join(' ');
      const out = execFileSync('erl', ['-noshell', '-pa', join(TSUNG_APP, 'ebin'), '-eval', program], { encoding: 'utf8', timeout: 20_000, cwd: dir });
      expect(out.trim()).toBe('2');
      // Built once: a later run takes it as it is.
      expect(await jabberPluginCountingEvery(join(dir, 'plugin'))).toBe(join(dir, 'plugin'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves Tsung as it is when the plugin cannot be built there', async () => {
    expect(await jabberPluginCountingEvery('/tmp/a dir with spaces/plugin')).toBeUndefined();
  });
});
