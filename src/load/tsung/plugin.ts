import { execFile } from 'node:child_process';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** Where Debian's tsung package keeps its Erlang application: the sources, the headers, the beams. */
export const TSUNG_APP = '/usr/lib/x86_64-linux-gnu/tsung/tsung-1.7.0';

/**
 * Tsung 1.7's jabber plugin times a stamped message in `message_bidi` (src/ts_jabber.erl): it
 * looks for the first stamp in a chunk of the stream. Under load several echoes arrive in one
 * chunk, and all but the first would count as lost. The replacement counts every stamp of the
 * chunk, the same way.
 */
const COUNT_FIRST = /message_bidi\(RcvdXml, State\) ->\n[\s\S]*?\{nodata, State, think\}\.\n/;
const COUNT_EVERY = `message_bidi(RcvdXml, State) ->
    %% Changed by xfed: every stamped message of the chunk, not only the first.
    Node = integer_to_list(erlang:phash2(node())),
    {match, Stamps} = re:run(RcvdXml, "@@@([^@]+)@@@", [global, {capture, all_but_first, list}]),
    lists:foreach(
      fun([NodeStamp]) ->
              case string:tokens(NodeStamp, ",") of
                  [Node, StampS] ->
                      [MegaS, SecsS, MicroS] = string:tokens(StampS, ";"),
                      Stamp = {list_to_integer(MegaS), list_to_integer(SecsS), list_to_integer(MicroS)},
                      ts_mon_cache:add({ sample, xmpp_msg_latency, timer:now_diff(?TIMESTAMP, Stamp) / 1000});
                  _ ->
                      ignore
              end
      end, Stamps),
    {nodata, State, think}.
`;

/** The plugin's source with `message_bidi` counting every stamp; undefined when the function is not the one this was written for. */
export function countEveryStamp(source: string): string | undefined {
  if (!COUNT_FIRST.test(source)) return undefined;
  return source.replace(COUNT_FIRST, COUNT_EVERY);
}

/**
 * Compiles the jabber plugin with `message_bidi` counting every stamp into `dir` (once: a later
 * run reuses it), with the macros Tsung's own beam was built with (Debian's defines
 * `new_time_api`: Tsung's times are then monotonic integers, not `now()` tuples, and a plugin
 * built without it would break every session), for the nodes to load before Tsung's own.
 * Undefined when it cannot be built (no sources, another Tsung version): the run then uses
 * Tsung's plugin as it is, and says that echoes may be undercounted.
 */
export async function jabberPluginCountingEvery(dir: string): Promise<string | undefined> {
  const beam = join(dir, 'ts_jabber.beam');
  if (
    await access(beam).then(
      () => true,
      () => false,
    )
  )
    return dir;
  const source = await readFile(join(TSUNG_APP, 'src', 'ts_jabber.erl'), 'utf8').catch(() => undefined);
  const patched = source === undefined ? undefined : countEveryStamp(source);
  if (patched === undefined || /\s/.test(dir)) return undefined;
  await mkdir(dir, { recursive: true });
  const src = join(dir, 'ts_jabber.erl');
  await writeFile(src, patched);
  const erlString = (s: string) => JSON.stringify(s);
  const program = [
    `{ok, {_, [{compile_info, Info}]}} = beam_lib:chunks(${erlString(join(TSUNG_APP, 'ebin', 'ts_jabber.beam'))}, [compile_info]),`,
    'Defines = [D || D <- proplists:get_value(options, Info, []), is_tuple(D), element(1, D) =:= d],',
    `{ok, ts_jabber} = compile:file(${erlString(src)}, [{outdir, ${erlString(dir)}}, {i, ${erlString(join(TSUNG_APP, 'include'))}}, report_errors | Defines]),`,
    'halt().',
  ].join(' ');
  return promisify(execFile)('erl', ['-noshell', '-eval', program], {
    timeout: 60_000,
    cwd: dir,
    // A failed build is a fallback, not a crash to keep: no erl_crash.dump.
    env: { ...process.env, ERL_CRASH_DUMP_SECONDS: '0' },
  }).then(
    () => access(beam).then(() => dir),
    () => undefined,
  );
}
