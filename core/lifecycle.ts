import type { Logger } from './logger';

/**
 * Runs every cleanup step even if one throws, and only once however often it is called:
 * SIGTERM and an error path may both ask to close.
 */
export function onceClose(steps: Array<[name: string, fn: () => Promise<void> | void]>, log: Logger): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= (async () => {
      for (const [name, fn] of steps) {
        try {
          await fn();
        } catch (err) {
          log.warn('close step failed', { step: name, err });
        }
      }
    })();
    return closing;
  };
}

/** SIGTERM/SIGINT drain within a grace period, then exit; a second signal exits at once. */
export function handleSignals(close: () => Promise<void>, log: Logger, graceMs = 10_000): void {
  let signalled = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled) process.exit(1);
    signalled = true;
    log.info('shutting down', { signal: sig, graceMs });
    const timer = setTimeout(() => {
      log.error('grace period over, exiting with work unfinished', { graceMs });
      process.exit(1);
    }, graceMs);
    timer.unref();
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
