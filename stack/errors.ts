import type { ServiceName } from './types';

export type StackErrorCode =
  | 'MISSING_DEPENDENCY'
  | 'DOWNLOAD_FAILED'
  | 'START_FAILED'
  | 'PORT_TAKEN'
  | 'TIMEOUT'
  | 'STOP_FAILED'
  | 'LOCKED'
  | 'ABORTED';

export interface StackErrorDetails {
  code: StackErrorCode;
  /** The service concerned, or `stack` for problems of the stack as a whole. */
  service: ServiceName | 'stack';
  /** What went wrong, as a sentence fragment without a trailing period. */
  what: string;
  /** Where to look; absent when there is no log (e.g. a missing binary). */
  logPath?: string;
  /** What to do about it. */
  hint: string;
  cause?: unknown;
}

/**
 * The one error type `stack/` throws: its message is a single paragraph a human can act on
 * (service, what went wrong, log, what to do), because it is printed as-is by the CLI.
 */
export class StackError extends Error {
  readonly code: StackErrorCode;
  readonly service: ServiceName | 'stack';
  readonly logPath: string | undefined;

  constructor(details: StackErrorDetails) {
    super(formatParagraph(details), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'StackError';
    this.code = details.code;
    this.service = details.service;
    this.logPath = details.logPath;
  }
}

export function formatParagraph(d: Pick<StackErrorDetails, 'service' | 'what' | 'logPath' | 'hint'>): string {
  const parts = [`${d.service}: ${sentence(d.what)}`];
  if (d.logPath) parts.push(`Log: ${d.logPath}.`);
  parts.push(sentence(d.hint));
  return parts.join(' ').replace(/\s*\n\s*/g, ' ');
}

function sentence(text: string): string {
  const t = text.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/** Raised by a launch when we know the failure came from a port someone else holds. */
export class PortTakenError extends Error {
  constructor(readonly port: number) {
    super(`port ${port} is taken by another process`);
    this.name = 'PortTakenError';
  }
}

/**
 * Several services failed in one `up`: one paragraph each, separated by a blank line. Failures
 * with one cause (say, no JDK for both Kafka and Elasticsearch) share a paragraph.
 */
export class StackUpError extends Error {
  constructor(readonly failures: readonly StackError[]) {
    super(mergeParagraphs(failures));
    this.name = 'StackUpError';
  }
}

function mergeParagraphs(failures: readonly StackError[]): string {
  const byText = new Map<string, string[]>();
  for (const f of failures) {
    const text = f.message.slice(f.service.length + 2);
    byText.set(text, [...(byText.get(text) ?? []), f.service]);
  }
  return [...byText].map(([text, services]) => `${services.join(', ')}: ${text}`).join('\n\n');
}
