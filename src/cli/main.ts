import { Command, CommanderError, Option } from 'commander';
import { closeAllStacks } from '../infra/teardown.js';
import { EXIT, reportError } from './output.js';
import type { VariableSources } from '../scenario/loader.js';
import type { RunCommandOptions } from './run.js';
import type { WatchCommandOptions } from './watch.js';
import type { LoadCommandOptions } from './load.js';
import { packageVersion } from './version.js';

// Each command's module is imported when that command runs, so `--version`, `--help` and
// `validate` do not load testcontainers, the XMPP stack or the simulation.
const runtimeOption = () =>
  new Option('--runtime <kind>', 'how Prosody runs: container (testcontainers), process (local prosody), or auto')
    .choices(['auto', 'container', 'process'])
    .default('auto')
    .env('XFED_RUNTIME');
const baseImageOption = () =>
  new Option('--base-image <image>', 'Debian base image for the Prosody image (default: XFED_BASE_IMAGE, else debian:bookworm-slim)');

// Where the reports go; XFED_OUT for a CI job that sets it once (the flag wins).
const outOption = () => new Option('--out <dir>', 'where the reports go (default xfed-results/<suite>-<time>/)').env('XFED_OUT');

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];
// The values of ${NAME} in suite files (README, "Variables"): --var over --vars over the environment.
const varOption = () =>
  new Option('--var <NAME=VALUE>', 'a value for ${NAME} in the suites (repeatable); wins over --vars and the environment').argParser(collect);
const VARIABLES_HELP = `
Variables: \${NAME} in a suite's values takes its value from --var, else the last --vars file
that sets it, else the environment; \${NAME:-default} where NAME is unset or empty; $\${ for a
literal \${. Put \${...} inside [ ] or { } in quotes. Passwords stay in login.passwordEnv.`;
const varsOption = () =>
  new Option('--vars <file>', 'a YAML file of NAME: value for ${NAME} in the suites (repeatable, a later file wins); wins over the environment').argParser(
    collect,
  );

export function buildProgram(): Command {
  const program = new Command('xfed')
    .description('XMPP federation cutover harness for Skype for Business / Lync migrations')
    .version(packageVersion())
    .showHelpAfterError('(run xfed --help for usage)')
    .exitOverride();

  program
    .command('doctor')
    .description('check what this machine offers: Docker engine, base image, prosody binary, and what --runtime auto picks')
    .addOption(baseImageOption())
    .option('--json', 'print the same facts as one JSON document (keys in the README)')
    .action(async (opts: { baseImage?: string; json?: boolean }) => {
      process.exitCode = await (await import('./doctor.js')).runDoctor(opts);
    });

  program
    .command('prepare')
    .description('get ready ahead of time: build the Prosody image (and a local base image where no registry answers), check prosody for the process runtime')
    .addOption(
      new Option('--runtime <kind>', 'what to prepare: container, process, or auto (every runtime this machine offers)')
        .choices(['auto', 'container', 'process'])
        .default('auto'),
    )
    .addOption(baseImageOption())
    .action(async (opts: { runtime: 'auto' | 'container' | 'process'; baseImage?: string }) => {
      process.exitCode = await (await import('./prepare.js')).runPrepare(opts);
    });

  program
    .command('up')
    .description('start a partner Prosody, print its accounts and endpoints, and keep it up until Ctrl-C')
    .requiredOption('--domain <domain>', 'an XMPP domain to serve (repeatable)', collect)
    .option('--user <name>', 'an account to create on every domain, or name@domain (repeatable)', collect, [])
    .addOption(runtimeOption())
    .addOption(baseImageOption())
    .addOption(new Option('--tls <mode>', 'S2S TLS').choices(['required', 'optional', 'off']).default('required'))
    .addOption(new Option('--auth <how>', 'S2S authentication of peers').choices(['certificate', 'dialback', 'either']).default('certificate'))
    .addOption(new Option('--certificates <kind>', 'domain certificates').choices(['ca', 'self-signed', 'none']).default('ca'))
    .option('--no-secure-auth', "do not require a verified peer certificate (Prosody's s2s_secure_auth off)")
    .action(async (opts) => {
      process.exitCode = await (await import('./up.js')).runUp(opts);
    });

  program
    .command('demo')
    .description('run the bundled SfB 2019 cutover rehearsal against the simulated legacy side')
    .addOption(runtimeOption())
    .addOption(baseImageOption())
    .addOption(outOption())
    .option('--watch', 'instead: watch five checks while the later migration steps apply on a schedule (npm run demo:watch)')
    .option('--rehearse <duration>', 'with --watch: the time between two phases of the rehearsal', '12s')
    .option('--listen <host:port>', "with --watch: the live page's address", '127.0.0.1:0')
    .action(
      async (opts: { runtime: 'auto' | 'container' | 'process'; baseImage?: string; out?: string; watch?: boolean; rehearse: string; listen: string }) => {
        const demo = await import('./demo.js');
        process.exitCode = opts.watch ? await demo.runWatchDemo(opts) : await demo.runDemo(opts);
      },
    );

  program
    .command('run')
    .description('run suite files: phases, steps and checks; write results.json, junit.xml and report.html (see --reporter)')
    .argument('<file...>', 'suite files (YAML)')
    .addOption(
      new Option('--target <target>', 'only suites of this target: sim (the simulated side) or gateway (a real Edge); others exit 2').choices([
        'sim',
        'gateway',
      ]),
    )
    .addOption(runtimeOption())
    .addOption(baseImageOption())
    .addOption(varOption())
    .addOption(varsOption())
    .option('--phase <name>', 'run the checks of this phase only (repeatable); earlier steps still apply', collect)
    .option('--grep <text>', 'run only the checks whose id or title contains the text')
    .addOption(outOption())
    .addOption(
      new Option(
        '--reporter <list>',
        'reporters, comma-separated (repeatable): live (default; lines outside a terminal), list or plain (lines), json, junit, html, markdown (NAME=FILE for a path of its own), github (on under GitHub Actions); with no file reporter named, json, junit and html go into --out',
      )
        .env('XFED_REPORTER')
        .argParser(collect),
    )
    .option('--junit <file>', 'write junit.xml to this file (as --reporter junit=FILE)')
    .option('--html <file>', 'write report.html to this file (as --reporter html=FILE)')
    .option('--json <file>', 'write results.json to this file (as --reporter json=FILE)')
    .option('--assume-done', 'manual steps count as done without asking (non-interactive runs)')
    .addHelpText('after', VARIABLES_HELP)
    .action(async (files: string[], opts: RunCommandOptions) => {
      process.exitCode = await (await import('./run.js')).runRun(files, opts);
    });

  program
    .command('watch')
    .description("repeat a suite's checks in rounds until stopped: a log of every result, the transitions and outages, a live page, Prometheus metrics")
    .argument('<file>', 'a suite file (YAML)')
    .option('--checks <ids>', 'the checks to repeat, by id, comma-separated (default: those of the last phase)')
    .option('--phase <name>', 'repeat the checks of this phase (the steps of the phases up to it apply first)')
    .option('--interval <duration>', 'a round begins every interval: 500ms, 30s, 5m', '30s')
    .option('--duration <duration>', 'stop after this long: 30m, 4h, 1h30m (default: until Ctrl-C or SIGTERM)')
    .option('--listen <host:port>', 'the live page, /metrics and POST /marks (port 0: any free port)', '127.0.0.1:0')
    .addOption(new Option('--out <dir>', 'where the log (watch.ndjson) and timeline.html go (default xfed-results/watch-<suite>-<time>/)').env('XFED_OUT'))
    .option('--resume', 'continue the log in --out (after a crash or a stop) instead of refusing it')
    .option('--on-change <command>', 'run this shell command at each transition, with the details in XFED_* variables (README, "Cutover night")')
    .option('--on-change-timeout <duration>', 'bound on each --on-change command; past it it is killed', '30s')
    .option('--rehearse <duration>', 'apply the steps of each phase after the watched one in turn, one phase every duration, with a mark')
    .option('--log-part-size <size>', 'start a new part of the log past this size', '64MB')
    .addOption(runtimeOption())
    .addOption(baseImageOption())
    .addOption(varOption())
    .addOption(varsOption())
    .addHelpText('after', VARIABLES_HELP)
    .action(async (file: string, opts: WatchCommandOptions) => {
      process.exitCode = await (await import('./watch.js')).runWatch(file, opts);
    });

  program
    .command('load')
    .description(
      'load test: N partner users on K domains log in, subscribe, send IMs at an open-model rate and change presence; latency, loss, throughput; load.json and report.html',
    )
    .argument('<file>', 'a suite file (YAML): its partner and its target')
    .requiredOption('--users <n>', "partner users (load-00001, ...), created beside the suite's own")
    .option('--domains <k>', "partner domains, users spread round-robin: the suite's own first, then load2.<primary>, ...", '1')
    .requiredOption('--rate <rate>', 'IMs per second over all users, each with a scheduled send time: 200/s, 200, 12000/min')
    .requiredOption('--duration <duration>', 'how long IMs are sent, after the ramp: 30s, 5m')
    .option('--presence-churn <rate>', 'presence changes per second over all users (away/available)', '0')
    .option('--ramp <duration>', 'logins spread over this time (the arrival rate is users / ramp)', '30s')
    .option('--sfb-users <m>', 'the simulation: SfB echo users the load users write to (default min(users, 50))')
    .option('--no-subscribe', 'no subscription to the SfB contact before the IMs')
    .option('--grace <duration>', 'after the last scheduled IM, how long echoes are still awaited before the rest count as lost', '5s')
    .option('--restart <what@time>', 'restart under load: edge@30s or gateway@30s after the IMs start (the simulation), timing the presence storm')
    .addOption(
      new Option('--engine <engine>', "the load generator: xfed's own, or Tsung's controller and client nodes").choices(['xfed', 'tsung']).default('xfed'),
    )
    .option('--tsung-hosts <hosts>', "with --engine tsung: Tsung's client nodes, comma-separated (default this machine)")
    .addOption(runtimeOption())
    .addOption(baseImageOption())
    .addOption(new Option('--out <dir>', 'where load.json and report.html go (default xfed-results/load-<suite>-<time>/)').env('XFED_OUT'))
    .addOption(varOption())
    .addOption(varsOption())
    .addHelpText('after', VARIABLES_HELP)
    .action(async (file: string, opts: LoadCommandOptions) => {
      process.exitCode = await (await import('./load.js')).runLoadCommand(file, opts);
    });

  program
    .command('mark')
    .description('add a mark ("moved batch 1") to a running watch\'s timeline')
    .argument('<text>', 'what the operators did')
    .option('--url <url>', 'the watch at this address (default: the only watch running on this machine)')
    .option('--out <dir>', 'the watch whose log is in this directory')
    .action(async (text: string, opts: { url?: string; out?: string }) => {
      process.exitCode = await (await import('./mark.js')).runMark(text, opts);
    });

  program
    .command('timeline')
    .description("render a watch's log into one self-contained HTML timeline, and print its summary")
    .argument('<log>', "a watch's --out directory or its watch.ndjson")
    .option('--out <file>', 'the HTML file (default: timeline.html beside the log)')
    .action(async (log: string, opts: { out?: string }) => {
      process.exitCode = await (await import('./timeline.js')).runTimeline(log, opts);
    });

  program
    .command('validate')
    .description('check suite files; every problem is printed as file:line:col: message')
    .argument('<file...>', 'suite files (YAML)')
    .addOption(varOption())
    .addOption(varsOption())
    .addHelpText('after', VARIABLES_HELP)
    .action(async (files: string[], opts: VariableSources) => {
      process.exitCode = await (
        await import('./validate.js')
      ).runValidate(files, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) }, opts);
    });

  program
    .command('schema')
    .description('print the JSON Schema of suite files (for editors)')
    .action(async () => {
      process.exitCode = await (await import('./schema.js')).runSchema({ stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
    });

  program
    .command('compare')
    .description('compare two results.json files: what regressed, got fixed, is new or gone, and latency')
    .argument('<base>', 'results.json of the earlier run')
    .argument('<new>', 'results.json of the later run')
    .option('--markdown <file>', 'also write the comparison as Markdown')
    .option('--html <file>', 'also write the comparison as HTML')
    .action(async (base: string, next: string, opts: { markdown?: string; html?: string }) => {
      process.exitCode = await (await import('./compare.js')).runCompare(base, next, opts);
    });

  program
    .command('matrix')
    .description("run the partner with each TLS / authentication setting against the suite's partner profile, beside SfB's negotiation matrix")
    .argument('<file>', "a suite file (its partner and its target's partner profile)")
    .addOption(runtimeOption())
    .addOption(baseImageOption())
    .addOption(varOption())
    .addOption(varsOption())
    .action(async (file: string, opts: { runtime: 'auto' | 'container' | 'process'; baseImage?: string } & VariableSources) => {
      process.exitCode = await (await import('./matrix.js')).runMatrix(file, opts);
    });

  program
    .command('sfb-config')
    .description("print the SfB Management Shell commands and DNS records that match a suite's partner")
    .argument('<file>', 'a suite file')
    .addOption(varOption())
    .addOption(varsOption())
    .action(async (file: string, opts: VariableSources) => {
      process.exitCode = await (await import('./sfb-config.js')).runSfbConfig(file, opts);
    });

  program
    .command('clean')
    .description('remove what killed xfed runs left behind: Prosody processes, containers, networks, work directories; mark their results.json killed')
    .option('--dry-run', 'only list what would be removed')
    .action(async (opts: { dryRun?: boolean }) => {
      process.exitCode = await (await import('./clean.js')).runClean(opts);
    });

  return program;
}

/**
 * Runs the CLI on `argv` and resolves with its exit code; bin/xfed.js exits with it. Importing this
 * module runs nothing.
 */
export async function main(argv: string[]): Promise<number> {
  // A bug anywhere still tears down what was started before the process ends.
  for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
    process.on(event, (err) => {
      process.stderr.write(`xfed: internal error (please report it): ${(err as Error)?.stack ?? String(err)}\n`);
      void closeAllStacks().finally(() => process.exit(EXIT.invalid));
    });
  }
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with their own zero code.
      return err.exitCode === 0 ? EXIT.ok : EXIT.invalid;
    }
    return reportError(err);
  } finally {
    await closeAllStacks();
  }
}
