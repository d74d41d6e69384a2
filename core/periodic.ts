/**
 * Runs `task` every `intervalMs`, never two at once: a slow run delays the next instead of
 * piling up (a heartbeat stuck on a busy database must not open a second query). Errors go to
 * `onError`; the timer keeps going, because the next run may succeed (a brief disconnect).
 */
export interface Periodic {
  /** Stops the timer and waits for a run in progress. Safe to call twice. */
  stop(): Promise<void>;
}

export function every(intervalMs: number, task: () => Promise<void>, onError: (err: unknown) => void): Periodic {
  let running: Promise<void> | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    if (stopped) return;
    running = task()
      .catch(onError)
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  timer = setTimeout(tick, intervalMs);
  return {
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
