/**
 * Runs tasks one at a time within this process: apt holds the dpkg lock, and two Maven runs
 * filling an empty ~/.m2 at once can trip over each other's partial downloads.
 */
export function createMutex(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };
}
