import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readState, writeState } from './state';

describe('state file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-state-'));
  const file = path.join(dir, 'state.json');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('starts empty when missing or corrupt', () => {
    expect(readState(file)).toEqual({ ports: {} });
    fs.writeFileSync(file, '{not json');
    expect(readState(file)).toEqual({ ports: {} });
  });

  it('round-trips ports and drops values that are not ports', () => {
    writeState(file, { ports: { kafka: { port: 9092, controllerPort: 9093 }, api: { port: 3000 } } });
    expect(readState(file)).toEqual({ ports: { kafka: { port: 9092, controllerPort: 9093 }, api: { port: 3000 } } });
    fs.writeFileSync(file, JSON.stringify({ ports: { redis: { port: 70000, x: 'a', ok: 6379 }, bad: 5 } }));
    expect(readState(file)).toEqual({ ports: { redis: { ok: 6379 } } });
  });
});
