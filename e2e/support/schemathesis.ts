import path from 'node:path';
import { pythonTool } from './python-tool';

/** Pinned so a new release cannot change what the suite checks without a commit. */
export const SCHEMATHESIS_VERSION = '4.32.5';

/** The `st` command of schemathesis (PyPI), installed on first use. */
export async function schemathesis(): Promise<string> {
  return path.join(await pythonTool('schemathesis', SCHEMATHESIS_VERSION), 'bin', 'st');
}
