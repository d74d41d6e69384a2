import zlib from 'node:zlib';
import type { Context } from 'koa';
import { IntakeError } from './intake-error';
import { BodyTooLargeError } from './line-reader';

/**
 * What a request body is and how to read it without trusting it: the content type decides
 * between one JSON event and an NDJSON stream, Content-Encoding may add gzip or deflate, and
 * every limit counts decoded bytes, so a small gzip bomb cannot inflate past them.
 */
export type BodyKind = 'json' | 'ndjson';

const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson'];

export function bodyKind(ctx: Context): BodyKind {
  const type = (ctx.get('content-type').split(';')[0] ?? '').trim().toLowerCase();
  if (type === 'application/json') return 'json';
  if (NDJSON_TYPES.includes(type)) return 'ndjson';
  throw new IntakeError(415, 'UNSUPPORTED_MEDIA_TYPE', `send one event as application/json or many as application/x-ndjson (one JSON event per line); got ${JSON.stringify(type || 'no content type')}`);
}

/** The decoded body as a stream, after refusing what is too large or encoded in a way we do not read. */
export function decodedBody(ctx: Context, maxBodyBytes: number): AsyncIterable<Buffer> {
  const encoding = (ctx.get('content-encoding') || 'identity').trim().toLowerCase();
  if (encoding === 'identity') {
    if (Number(ctx.get('content-length') || '0') > maxBodyBytes) throw tooLarge(maxBodyBytes);
    return ctx.req;
  }
  if (encoding === 'gzip' || encoding === 'x-gzip') return ctx.req.pipe(zlib.createGunzip());
  if (encoding === 'deflate') return ctx.req.pipe(zlib.createInflate());
  throw new IntakeError(415, 'UNSUPPORTED_ENCODING', `Content-Encoding ${JSON.stringify(encoding)} is not supported; use gzip, deflate or none`);
}

/** Reads a whole (small) body: one JSON event, which may span lines when pretty-printed. */
export async function readAll(body: AsyncIterable<Buffer>, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) throw new BodyTooLargeError(maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

export function tooLarge(maxBodyBytes: number): IntakeError {
  return new IntakeError(413, 'BODY_TOO_LARGE', `the body is larger than ${maxBodyBytes} bytes (after decompression; INGEST_HTTP_MAX_BODY_BYTES); nothing was written. Split it into several requests`);
}

/** Maps a failure while reading the body to the caller's error, and drains the rest so the answer can be sent. */
export function bodyReadError(ctx: Context, err: unknown, maxBodyBytes: number): IntakeError {
  ctx.req.unpipe();
  ctx.req.resume();
  if (err instanceof IntakeError) return err;
  if (err instanceof BodyTooLargeError) return tooLarge(maxBodyBytes);
  const encoding = ctx.get('content-encoding');
  return new IntakeError(400, 'BODY_UNREADABLE', `the body could not be read${encoding ? ` as ${encoding}` : ''}: ${(err as Error).message.slice(0, 120)}; nothing was written`);
}
