import { Command, CommanderError, Option } from 'commander';
import { closeAllStacks } from '../infra/teardown.js';
import { runDemo } from './demo.js';
import { runDoctor } from './doctor.js';
import { EXIT, reportError } from './output.js';
import { runUp } from './up.js';

const runtimeOption = () =>
  new Option('--runtime <kind>', 'how Prosody runs: container (testcontainers), process (local prosody), or auto')
    .choices(['auto', 'container', 'process'])
    .default('auto');
const baseImageOption = () =>
  new Option('--base-image <image>', 'Debian base image for the Prosody image (default: XFED_BASE_IMAGE, else debian:bookworm-slim)');

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export function buildProgram(): Command {
  const program = new Command('xfed')
    .description('XMPP federation cutover harness for Skype for Business / Lync migrations')
    .version('0.1.0')
    .showHelpAfterError('(run xfed --help for usage)')
    .exitOverride();

  program
    .command('doctor')
    .description('check what this machine offers: Docker engine, base image, prosody binary, and what --runtime auto picks')
    .addOption(baseImageOption())
    .action(async (opts: { baseImage?: string }) => {
      process.exitCode = await runDoctor(opts);
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
      process.exitCode = await runUp(opts);
    });

  program
    .command('demo')
    .description('federate two partner domains over real S2S and show what that proves')
    .addOption(runtimeOption())
    .addOption(baseImageOption())
    .action(async (opts: { runtime: 'auto' | 'container' | 'process'; baseImage?: string }) => {
      process.exitCode = await runDemo(opts);
    });

  return program;
}

async function main(argv: string[]): Promise<number> {
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

// A bug anywhere still tears down what was started before the process ends.
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (err) => {
    process.stderr.write(`xfed: internal error (please report it): ${(err as Error)?.stack ?? String(err)}\n`);
    void closeAllStacks().finally(() => process.exit(EXIT.invalid));
  });
}

process.exit(await main(process.argv));
