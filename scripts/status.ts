/**
 * npm run status [-- --json] [--dead-letters N]
 *
 * One screen for the running pipeline: each service's health and version, the infrastructure,
 * slot and consumer lag, snapshot and reindex progress, watermark and freshness per index, dead
 * letters, the last errors (docs/operations.md, "Pipeline status"). Reads the local stack's
 * .stack/stack.env and .stack/run/apps.env, under the environment (config/status.ts lists the
 * variables). Exit 0 when nothing fails, 1 when some part does, 2 on a usage or config error.
 */
import { parseArgs } from 'node:util';
import { loadOpsConfig } from '../config/status';
import { errorMessage } from '../core/errors';
import { opsEnv } from './ops-env';
import { collectStatus } from './status/collect';
import { formatStatus } from './status/format';

async function main(): Promise<number> {
  let values: { json?: boolean; 'dead-letters'?: string };
  try {
    ({ values } = parseArgs({ options: { json: { type: 'boolean', default: false }, 'dead-letters': { type: 'string' } } }));
  } catch (err) {
    process.stderr.write(`status: ${errorMessage(err)}\nusage: npm run status [-- --json] [--dead-letters N]\n`);
    return 2;
  }
  const recent = values['dead-letters'] === undefined ? 5 : Number(values['dead-letters']);
  if (!Number.isInteger(recent) || recent < 0 || recent > 1000) {
    process.stderr.write('status: --dead-letters takes a whole number from 0 to 1000\n');
    return 2;
  }
  const { env, logsDir } = opsEnv();
  let config;
  try {
    config = loadOpsConfig(env, logsDir);
  } catch (err) {
    process.stderr.write(`status: ${errorMessage(err)}\n`);
    return 2;
  }
  const report = await collectStatus(config, { deadLetters: recent });
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
  return report.healthy ? 0 : 1;
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`status failed: ${errorMessage(err)}\n`);
  process.exit(1);
});
