/**
 * Splits a request body into NDJSON lines as it arrives, so a large request never sits in memory
 * whole: at most one line is held, and a line longer than `maxLineBytes` is not kept at all (it
 * is reported by its length and skipped up to the next newline). Line numbers start at 1 and
 * count blank lines too, so they match what the caller sees in an editor.
 */
export type Line = { n: number; bytes: Buffer } | { n: number; tooLongBytes: number };

export class BodyTooLargeError extends Error {
  constructor(readonly maxBodyBytes: number) {
    super(`the body is larger than ${maxBodyBytes} bytes`);
  }
}

export interface LineLimits {
  /** Bytes the whole body may have (after decoding); past it the reader throws BodyTooLargeError. */
  maxBodyBytes: number;
  /** Bytes one line may have before it is dropped unread. */
  maxLineBytes: number;
}

const NEWLINE = 0x0a;

export async function* readLines(body: AsyncIterable<Buffer | string>, limits: LineLimits): AsyncGenerator<Line> {
  let n = 0;
  let total = 0;
  let parts: Buffer[] = [];
  let held = 0;
  let tooLong = false;

  const finish = (): Line => {
    n += 1;
    const line: Line = tooLong ? { n, tooLongBytes: held } : { n, bytes: stripCr(Buffer.concat(parts, held)) };
    parts = [];
    held = 0;
    tooLong = false;
    return line;
  };
  const take = (piece: Buffer): void => {
    held += piece.length;
    if (held > limits.maxLineBytes) {
      tooLong = true;
      parts = [];
    } else if (!tooLong) parts.push(piece);
  };

  for await (const raw of body) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    total += chunk.length;
    if (total > limits.maxBodyBytes) throw new BodyTooLargeError(limits.maxBodyBytes);
    let start = 0;
    for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, start)) {
      take(chunk.subarray(start, i));
      yield finish();
      start = i + 1;
    }
    if (start < chunk.length) take(chunk.subarray(start));
  }
  if (held > 0) yield finish();
}

function stripCr(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, -1) : line;
}
