import { PipelineError } from './errors';

/**
 * The read-your-writes token: where a caller's writes sit in the stream, as the highest commit
 * LSN per (topic, partition). `POST /v1/events` returns one; the API waits until the indexer's
 * watermark positions (core/watermark-store.ts, also per topic and partition) reach it.
 * Per partition rather than one LSN, because only the partitions the write went to matter.
 * It is not signed: a forged token can only make its bearer wait, never read more.
 */
export interface TokenPosition {
  topic: string;
  partition: number;
  lsn: bigint;
}

const PREFIX = 'ct1.';
const MAX_TOKEN_CHARS = 8_192;

/** One entry per (topic, partition), keeping the highest LSN. */
export function mergePositions(positions: Iterable<TokenPosition>): TokenPosition[] {
  const best = new Map<string, TokenPosition>();
  for (const p of positions) {
    const k = `${p.partition}:${p.topic}`;
    const had = best.get(k);
    if (!had || p.lsn > had.lsn) best.set(k, { topic: p.topic, partition: p.partition, lsn: p.lsn });
  }
  return [...best.values()].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}

export function encodeConsistencyToken(positions: Iterable<TokenPosition>): string {
  const body = mergePositions(positions).map((p) => [p.topic, p.partition, p.lsn.toString()]);
  return PREFIX + Buffer.from(JSON.stringify(body)).toString('base64url');
}

function invalid(why: string): PipelineError {
  return new PipelineError(`consistency token is invalid (${why}); pass the token exactly as POST /v1/events returned it`, { code: 'CONSISTENCY_TOKEN_INVALID', retriable: false });
}

export function decodeConsistencyToken(token: string): TokenPosition[] {
  if (token.length > MAX_TOKEN_CHARS) throw invalid(`longer than ${MAX_TOKEN_CHARS} characters`);
  if (!token.startsWith(PREFIX)) throw invalid(`it does not start with "${PREFIX}"`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token.slice(PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    throw invalid('not base64url JSON');
  }
  if (!Array.isArray(parsed)) throw invalid('not a list of positions');
  return mergePositions(parsed.map((entry: unknown) => {
    if (!Array.isArray(entry) || entry.length !== 3) throw invalid('a position is not [topic, partition, lsn]');
    const [topic, partition, lsn] = entry as unknown[];
    if (typeof topic !== 'string' || topic.length === 0 || topic.length > 249) throw invalid('a topic name is not a string of 1 to 249 characters');
    if (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0) throw invalid('a partition is not a non-negative integer');
    if (typeof lsn !== 'string' || !/^\d{1,20}$/.test(lsn)) throw invalid('an LSN is not a decimal string');
    return { topic, partition, lsn: BigInt(lsn) };
  }));
}

/** True when every position of the token for `topic` is at or below the stored ones. */
export function tokenSatisfied(token: readonly TokenPosition[], topic: string, stored: (partition: number) => bigint | undefined): boolean {
  return token.filter((p) => p.topic === topic).every((p) => {
    const have = stored(p.partition);
    return have !== undefined && have >= p.lsn;
  });
}
