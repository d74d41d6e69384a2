export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class WaitTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not happen within ${Math.round(ms / 1000)} s`);
    this.name = 'WaitTimeoutError';
  }
}

export class AbortedError extends Error {
  constructor() {
    super('aborted');
    this.name = 'AbortedError';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError();
}

/**
 * Polls `probe` until it returns true. The probe may throw to stop early (e.g. the process died),
 * which beats waiting out the whole timeout for something that cannot succeed any more.
 */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean> | boolean,
  opts: { deadline: number; intervalMs?: number; signal?: AbortSignal },
): Promise<void> {
  const start = Date.now();
  for (;;) {
    throwIfAborted(opts.signal);
    if (await probe()) return;
    if (Date.now() >= opts.deadline) throw new WaitTimeoutError(what, opts.deadline - start);
    await sleep(Math.min(opts.intervalMs ?? 250, Math.max(0, opts.deadline - Date.now())));
  }
}
