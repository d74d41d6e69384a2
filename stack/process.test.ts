import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isAlive, processMatches, readPid, spawnDetached, stopProcess, writePid } from './process';

describe('process helpers', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-proc-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('starts a detached process logging to a file, recognises it, and stops it', async () => {
    const log = path.join(dir, 'out.log');
    const child = await spawnDetached('sh', ['-c', `echo started; exec sleep 30 # ${dir}`], log, { cwd: dir });
    expect(isAlive(child.pid)).toBe(true);
    // The shell may not have run `echo` yet when spawn resolves; a SIGTERM now would race it.
    for (let i = 0; i < 100 && fs.readFileSync(log, 'utf8') === ''; i++) await new Promise((r) => setTimeout(r, 20));
    expect(processMatches(child.pid, dir)).toBe(true);
    expect(processMatches(child.pid, '/no/such/folder')).toBe(false);
    expect(await stopProcess(child.pid, 'SIGTERM', 5000)).toBe('stopped');
    expect(isAlive(child.pid)).toBe(false);
    expect(await stopProcess(child.pid, 'SIGTERM', 5000)).toBe('not-running');
    expect(fs.readFileSync(log, 'utf8')).toBe('started\n');
  });

  it('escalates to SIGKILL after the grace period', async () => {
    const child = spawn('sh', ['-c', 'trap "" TERM; while :; do sleep 0.1; done'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
    expect(await stopProcess(child.pid as number, 'SIGTERM', 300)).toBe('killed');
  });

  it('round-trips pid files and rejects garbage', () => {
    const file = path.join(dir, 'x.pid');
    writePid(file, 1234);
    expect(readPid(file)).toBe(1234);
    fs.writeFileSync(file, 'nope');
    expect(readPid(file)).toBeUndefined();
    expect(readPid(path.join(dir, 'missing.pid'))).toBeUndefined();
  });
});
