import * as fs from 'node:fs';
import * as path from 'node:path';
import { StackError } from './errors';
import { localServiceDir, replaceSymlink, type StackPaths } from './paths';
import type { ServiceName } from './types';
import { canTraverse, chownTree } from './users';

/**
 * The folder holding a service's data, owned by `user` (the account it runs as; undefined when it
 * runs as us). It is `.stack/<service>` when `user` can reach it; otherwise (a clone under a 0700
 * home, or a path too long for a unix socket) it lives under `/var/tmp/search-pipeline-<hash>/`
 * with `.stack/<service>` as a symlink to it, and that choice sticks across runs.
 */
export async function prepareServiceDir(
  paths: StackPaths,
  service: ServiceName,
  user: string | undefined,
  maxLocalPathLength = Infinity,
): Promise<string> {
  const local = localServiceDir(paths, service);
  const stat = fs.lstatSync(local, { throwIfNoEntry: false });
  let dir: string;
  if (stat?.isSymbolicLink()) {
    dir = fs.readlinkSync(local);
  } else if (stat) {
    if (!(await canTraverse(user, paths.stateDir))) {
      throw new StackError({
        code: 'START_FAILED',
        service,
        what: `user ${user} cannot reach its data in ${local} (a parent folder is not traversable)`,
        hint: `Make every parent folder traversable (\`chmod o+x\`), or delete ${local} to start over with data under ${paths.externalRoot}`,
      });
    }
    dir = local;
  } else if (local.length <= maxLocalPathLength && (await canTraverse(user, paths.stateDir))) {
    dir = local;
  } else {
    fs.mkdirSync(paths.externalRoot, { recursive: true, mode: 0o755 });
    dir = path.join(paths.externalRoot, service);
    replaceSymlink(dir, local);
  }
  fs.mkdirSync(dir, { recursive: true });
  await chownTree(dir, user);
  return dir;
}
