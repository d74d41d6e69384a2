import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { badRequest } from '../errors';

/**
 * Opaque cursors for paging past the from+size window: base64url(JSON {pit, after, query hash})
 * plus an HMAC, so a client can neither forge a point in time / sort position nor reuse a cursor
 * with a different query (the hash binds it to the normalised request that opened it; the tenant
 * will join that request once keys exist).
 */
export interface CursorState {
  pitId: string;
  searchAfter: unknown[];
  queryHash: string;
}

export class CursorCodec {
  private readonly key: Buffer;

  constructor(secret?: string) {
    this.key = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  encode(state: CursorState): string {
    const payload = Buffer.from(JSON.stringify({ p: state.pitId, a: state.searchAfter, h: state.queryHash })).toString('base64url');
    return `${payload}.${this.sign(payload)}`;
  }

  /** Verifies integrity and that the cursor belongs to `queryHash`; any mismatch is the caller's 400. */
  decode(cursor: string, queryHash: string): CursorState {
    const [payload, mac, ...rest] = cursor.split('.');
    if (!payload || !mac || rest.length || !safeEqual(mac, this.sign(payload))) {
      throw badRequest('CURSOR_INVALID', 'cursor is not one this API issued (or it was altered); pass the cursor value of the previous response unchanged, or cursor=start to begin');
    }
    const obj = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { p: string; a: unknown[]; h: string };
    if (obj.h !== queryHash) {
      throw badRequest('CURSOR_QUERY_MISMATCH', 'cursor belongs to a different query; send the same q, filter, sort and fuzzy as the request that returned it, or cursor=start to begin a new one');
    }
    return { pitId: obj.p, searchAfter: obj.a, queryHash: obj.h };
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Stable hash of a normalised request object (key order fixed by the caller). */
export function hashRequest(normalised: unknown): string {
  return createHash('sha256').update(JSON.stringify(normalised)).digest('base64url').slice(0, 22);
}
