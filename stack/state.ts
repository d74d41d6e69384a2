import * as fs from 'node:fs';
import { writeFileAtomic } from './env-file';
import type { ServiceName, ServicePorts } from './types';

/** What survives `down`: the ports each service last used, so a restart keeps its URLs. */
export interface StackState {
  ports: Partial<Record<ServiceName | 'api', ServicePorts>>;
}

export function readState(file: string): StackState {
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (parsed && typeof parsed === 'object' && 'ports' in parsed) {
      return { ports: sanitizePorts((parsed as { ports: unknown }).ports) };
    }
  } catch {
    // Missing or corrupt: forgetting ports only costs new URLs, so start over rather than fail.
  }
  return { ports: {} };
}

export function writeState(file: string, state: StackState): void {
  writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`);
}

function sanitizePorts(raw: unknown): StackState['ports'] {
  const out: StackState['ports'] = {};
  if (!raw || typeof raw !== 'object') return out;
  for (const [name, ports] of Object.entries(raw)) {
    if (!ports || typeof ports !== 'object') continue;
    const clean: Record<string, number> = {};
    for (const [key, value] of Object.entries(ports)) {
      if (typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 65536) clean[key] = value;
    }
    (out as Record<string, ServicePorts>)[name] = clean;
  }
  return out;
}
