import zlib from 'node:zlib';
import type { Context } from 'koa';
import { ApiError, badRequest } from '../errors';
import { scanJson } from './json-scan';

/**
 * Reads a JSON request body within a byte limit that also holds after decompression, so a
 * small gzip bomb cannot inflate into gigabytes. Keys that could reach an object's prototype
 * (`__proto__`, `constructor`, `prototype`) are refused rather than quietly dropped.
 */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Parameters are flat; the intake allows 64 levels in an event, more than any body here needs. */
const MAX_DEPTH = 64;

export async function readJsonBody(ctx: Context, maxBytes: number): Promise<Record<string, unknown>> {
  const declared = Number(ctx.get('content-length') || '0');
  if (declared === 0 && !ctx.get('transfer-encoding')) return {};
  if (!ctx.is('application/json')) {
    throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', `send the body as application/json; got ${JSON.stringify(ctx.get('content-type') || 'no content type')}`);
  }
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const text = await readText(ctx, maxBytes);
  if (text.trim() === '') return {};
  const scan = scanJson(text, MAX_DEPTH);
  if (scan.kind === 'too_deep') throw badRequest('BODY_TOO_DEEP', `the body nests more than ${MAX_DEPTH} levels of objects and arrays; send a flat object of parameters, e.g. {"q": "zelda", "size": 5}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, (key, value: unknown) => {
      if (FORBIDDEN_KEYS.has(key)) throw new ForbiddenKey(key);
      return value;
    });
  } catch (err) {
    if (err instanceof ForbiddenKey) throw badRequest('BODY_FORBIDDEN_KEY', `the body has a key named ${JSON.stringify(err.key)}; remove it`);
    throw badRequest('BODY_INVALID_JSON', `the body is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw badRequest('BODY_INVALID', 'the body must be a JSON object of parameters, e.g. {"q": "zelda", "size": 5}');
  }
  // Only once the text is valid JSON: the scan's view of an invalid body means nothing.
  if (scan.kind === 'duplicate') throw badRequest('PARAM_REPEATED', `the body gives ${JSON.stringify(scan.path.slice(0, 60))} more than once; give each parameter once (lists are comma-separated)`);
  return parsed as Record<string, unknown>;
}

class ForbiddenKey extends Error {
  constructor(readonly key: string) {
    super(key);
  }
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, 'BODY_TOO_LARGE', `the body is larger than ${maxBytes} bytes (after decompression); send fewer or shorter parameters`);
}

async function readText(ctx: Context, maxBytes: number): Promise<string> {
  const encoding = (ctx.get('content-encoding') || 'identity').toLowerCase();
  let stream: NodeJS.ReadableStream = ctx.req;
  if (encoding === 'gzip' || encoding === 'x-gzip') stream = ctx.req.pipe(zlib.createGunzip());
  else if (encoding === 'deflate') stream = ctx.req.pipe(zlib.createInflate());
  else if (encoding !== 'identity') throw new ApiError(415, 'UNSUPPORTED_ENCODING', `Content-Encoding ${JSON.stringify(encoding)} is not supported; use gzip, deflate or none`);

  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) throw tooLarge(maxBytes);
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof ApiError) {
      ctx.req.unpipe();
      ctx.req.resume(); // drain the rest so the connection can answer
      throw err;
    }
    throw badRequest('BODY_UNREADABLE', `the body could not be read${encoding === 'identity' ? '' : ` as ${encoding}`}: ${(err as Error).message.slice(0, 120)}`);
  }
  const buf = Buffer.concat(chunks);
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  try {
    return text.decode(buf);
  } catch {
    throw badRequest('BODY_INVALID_JSON', 'the body is not valid UTF-8');
  }
}
