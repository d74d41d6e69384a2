/**
 * npx tsx stack/cli.ts up|down|status|env [--services postgres,kafka,elasticsearch,redis]
 *
 * `up` prints stack.env (KEY=VALUE) on stdout and progress on stderr, so
 * `eval "$(npx tsx stack/cli.ts up | sed 's/^/export /')"` works. Exit codes: 0 ok, 1 failure,
 * 2 usage, 3 (`status` only) some requested service is not running, 130 interrupted.
 */
import { StackConfigError } from '../config/stack-config';
import { StackError, StackUpError } from './errors';
import { formatStatus, readStackEnv, stackDown, stackStatus, stackUp } from './index';
import { renderEnvFile } from './env-file';
import { parseServiceList, type ServiceName } from './types';

const USAGE = 'usage: npx tsx stack/cli.ts up|down|status|env [--services postgres,kafka,elasticsearch,redis]';

function parseArgs(argv: string[]): { command: string; services?: ServiceName[] } {
  const [command, ...rest] = argv;
  let services: ServiceName[] | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (arg === '--services') services = parseServiceList(rest[++i] ?? '');
    else if (arg.startsWith('--services=')) services = parseServiceList(arg.slice('--services='.length));
    else throw new Error(`unknown argument ${JSON.stringify(arg)}`);
  }
  if (!command || !['up', 'down', 'status', 'env'].includes(command)) throw new Error(`unknown command ${JSON.stringify(command ?? '')}`);
  return { command, services };
}

const log = (msg: string): void => {
  process.stderr.write(`[stack] ${msg}\n`);
};

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  switch (args.command) {
    case 'up': {
      const controller = new AbortController();
      // First Ctrl-C: stop what this `up` started; another one later exits at once. One Ctrl-C
      // can arrive twice (the terminal signals the group and tsx relays), hence the 2 s window.
      let interruptedAt = 0;
      process.on('SIGINT', () => {
        if (interruptedAt === 0) {
          interruptedAt = Date.now();
          log('interrupted: stopping what this `up` started (Ctrl-C again to quit at once)');
          controller.abort();
        } else if (Date.now() - interruptedAt > 2000) {
          process.exit(130);
        }
      });
      process.once('SIGTERM', () => controller.abort());
      const t0 = Date.now();
      const result = await stackUp({ services: args.services, log, signal: controller.signal });
      const what = result.started.length ? `started ${result.started.join(', ')}` : 'everything was already running';
      log(`${what} in ${((Date.now() - t0) / 1000).toFixed(1)} s; wrote ${result.envFile}`);
      process.stdout.write(renderEnvFile(result.env));
      return 0;
    }
    case 'down': {
      const { stopped } = await stackDown({ services: args.services, log });
      log(stopped.length ? `stopped ${stopped.join(', ')}` : 'nothing of ours was running');
      return 0;
    }
    case 'status': {
      const rows = await stackStatus({ services: args.services });
      process.stdout.write(`${formatStatus(rows)}\n`);
      return rows.every((r) => r.state === 'running') ? 0 : 3;
    }
    default: {
      const env = readStackEnv();
      if (!env) {
        process.stderr.write('the stack is not up (no stack.env); run `up` first\n');
        return 3;
      }
      process.stdout.write(renderEnvFile(env));
      return 0;
    }
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof StackError || err instanceof StackUpError || err instanceof StackConfigError) {
      process.stderr.write(`\n${err.message}\n`);
      process.exit(err instanceof StackError && err.code === 'ABORTED' ? 130 : 1);
    }
    process.stderr.write(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
