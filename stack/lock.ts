import * as fs from 'node:fs';
import { StackError } from './errors';
import { isAlive } from './process';
import { sleep } from './wait';

/**
 * One `up`/`down` at a time per state folder (two test runners starting the same stack would
 * otherwise both launch Postgres on one data folder). A lock left by a dead process is taken over.
 */
export async function withLock<T>(file: string, timeoutMs: number, task: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(fs.readFileSync(file, 'utf8').trim());
      if (!Number.isInteger(holder) || holder <= 0 || !isAlive(holder)) {
        fs.rmSync(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new StackError({
          code: 'LOCKED',
          service: 'stack',
          what: `another stack command (pid ${holder}) has been working on this stack for over ${Math.round(timeoutMs / 1000)} s`,
          hint: `Wait for it to finish, or stop it (\`kill ${holder}\`) and run the command again`,
        });
      }
      await sleep(250);
    }
  }
  try {
    return await task();
  } finally {
    fs.rmSync(file, { force: true });
  }
}
