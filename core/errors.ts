/**
 * One error base for the whole product. `retriable` tells callers whether trying the
 * same thing again can succeed (a broker restart) or not (a value that does not fit
 * the mapping); `isRetriable` walks the cause chain so wrappers keep that answer.
 */
export class PipelineError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(
    message: string,
    opts: { code: string; retriable?: boolean; cause?: unknown; context?: Record<string, unknown> },
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = opts.code;
    this.retriable = opts.retriable ?? false;
    this.context = Object.freeze({ ...(opts.context ?? {}) });
  }
}

/** Bad configuration or input: fix it, do not retry. */
export class ConfigError extends PipelineError {
  constructor(message: string, context?: Record<string, unknown>) {
    super(message, { code: 'CONFIG_INVALID', retriable: false, context });
  }
}

export function isRetriable(err: unknown): boolean {
  const seen = new Set<unknown>();
  let cur: unknown = err;
  while (cur instanceof Error && !seen.has(cur)) {
    seen.add(cur);
    if (cur instanceof PipelineError) return cur.retriable;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
