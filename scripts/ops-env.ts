import fs from 'node:fs';
import { loadStackConfig } from '../config/stack-config';
import { parseEnvFile } from '../stack/env-file';
import { stackPaths } from '../stack/paths';
import { readAppsEnv } from './app-processes';

/**
 * The environment of the operator tools: the local stack's .stack/stack.env and what `npm start`
 * gave the apps (.stack/run/apps.env), under the process environment, which wins. Against another
 * deployment, set the variables config/status.ts lists (and STACK_DIR to an empty folder, so that
 * nothing local fills what they leave unset).
 */
export function opsEnv(): { env: Record<string, string | undefined>; logsDir: string } {
  const paths = stackPaths(loadStackConfig().stackDir);
  let stack: Record<string, string> = {};
  try {
    stack = parseEnvFile(fs.readFileSync(paths.envFile, 'utf8'));
  } catch {
    // no local stack: the environment must say where everything is
  }
  return { env: { ...stack, ...readAppsEnv(paths), ...process.env }, logsDir: paths.logsDir };
}
