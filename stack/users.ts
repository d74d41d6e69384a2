import { StackError } from './errors';
import { createMutex } from './mutex';
import { runCommand } from './process';
import type { ServiceName } from './types';

const userQueue = createMutex();

/** Creates a no-login system user for a service that refuses to run as root (Elasticsearch). */
export async function ensureSystemUser(name: string, service: ServiceName): Promise<void> {
  await userQueue(async () => {
    if ((await runCommand('getent', ['passwd', name])).code === 0) return;
    const shell = (await runCommand('sh', ['-c', 'command -v nologin'])).output.trim() || '/bin/false';
    // No home folder: nothing of ours should depend on one, and it would be left behind.
    const r = await runCommand('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', shell, name]);
    if (r.code !== 0 && (await runCommand('getent', ['passwd', name])).code !== 0) {
      throw new StackError({
        code: 'MISSING_DEPENDENCY',
        service,
        what: `could not create the system user ${name} it runs as (${r.output.trim() || `useradd exit ${r.code}`})`,
        hint: `Create it with \`useradd --system --user-group --no-create-home ${name}\` or set STACK_ES_USER to an existing non-root user`,
      });
    }
  });
}

/** Whether `user` can reach `dir` (search permission on it and every parent folder). */
export async function canTraverse(user: string | undefined, dir: string): Promise<boolean> {
  if (!user) return true;
  return (await runCommand('runuser', ['-u', user, '--', 'test', '-x', dir])).code === 0;
}

export async function canRead(user: string | undefined, file: string): Promise<boolean> {
  if (!user) return true;
  return (await runCommand('runuser', ['-u', user, '--', 'test', '-r', file])).code === 0;
}

export async function chownTree(target: string, user: string | undefined): Promise<void> {
  if (!user) return;
  const r = await runCommand('chown', ['-R', `${user}:`, target]);
  if (r.code !== 0) throw new Error(`chown -R ${user}: ${target} failed: ${r.output.trim()}`);
}
