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

/**
 * The exit of a failed process: close (bounded, so a step stuck on a dead dependency cannot keep a
 * broken process alive), then exit 1. The indexer's close leaves its Kafka group: a member that
 * exits without leaving holds its partitions until the broker's session timeout expires, and
 * nothing is indexed meanwhile (docs/operations.md).
 */
export function exitAfterClose(
  close: () => Promise<void>,
  log: Logger,
  timeoutMs = 10_000,
  exit: (code: number) => void = (code) => process.exit(code),
): () => Promise<void> {
  return async () => {
    let timer: NodeJS.Timeout | undefined;
    const bounded = new Promise<void>((r) => {
      timer = setTimeout(() => {
        log.error('closing after a failure took too long; exiting with work unfinished', { timeoutMs });
        r();
      }, timeoutMs);
    });
    await Promise.race([close().catch((err: unknown) => log.warn('close after a failure failed', { err })), bounded]);
    clearTimeout(timer);
    exit(1);
  };
}

/**
 * An uncaught exception or unhandled rejection ends the process through `fail` (which closes
 * first) instead of Node's default crash, which would skip every cleanup step.
 */
export function failOnUncaught(fail: (err: unknown, origin: string) => void, proc: NodeJS.EventEmitter = process): void {
  proc.on('uncaughtException', (err: unknown) => fail(err, 'uncaughtException'));
  proc.on('unhandledRejection', (reason: unknown) => fail(reason, 'unhandledRejection'));
}
