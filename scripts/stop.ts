import { loadStackConfig } from '../config/stack-config';
import { stackDown } from '../stack/down';
import { stackPaths } from '../stack/paths';
import { APP_NAMES, stopApp } from './app-processes';

/** `npm stop`: the pipeline processes first (they drain on SIGTERM), then the services the stack started. */
async function main(): Promise<void> {
  const config = loadStackConfig();
  const paths = stackPaths(config.stackDir);
  for (const name of [...APP_NAMES].reverse()) {
    if (await stopApp(paths, name)) process.stderr.write(`stopped ${name}\n`);
  }
  const { stopped } = await stackDown({ log: (m) => process.stderr.write(`  ${m}\n`) });
  process.stderr.write(stopped.length ? `stopped ${stopped.join(', ')}\n` : 'no stack services were running\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`npm stop failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
