import { decodeConsistencyToken, tokenSatisfied, type TokenPosition } from '../../core/consistency-token';
import { PipelineError } from '../../core/errors';
import { badRequest } from '../errors';
import type { ParamKinds, Params } from '../http/params';
import type { Freshness } from './freshness';

/**
 * Read-your-writes: a caller passes the commit LSN of its write (`minLsn`) or the token
 * `POST /v1/events` returned (`consistency`); the answer waits until the index's watermark has
 * reached it, up to a bound, then says `stale: true` rather than failing.
 */
export const CONSISTENCY_PARAMS = { minLsn: 'string', consistency: 'string' } as const satisfies ParamKinds;

export interface Requirement {
  minLsn?: bigint;
  token?: TokenPosition[];
}

const MAX_LSN = (1n << 64n) - 1n;

export function parseRequirement(p: Params): Requirement | undefined {
  const minLsn = p.str('minLsn');
  const token = p.str('consistency');
  if (minLsn === undefined && token === undefined) return undefined;
  const out: Requirement = {};
  if (minLsn !== undefined) {
    if (!/^\d{1,20}$/.test(minLsn) || BigInt(minLsn) > MAX_LSN) throw badRequest('PARAM_INVALID', `minLsn must be a decimal LSN (the commit LSN of your write, 0 to ${MAX_LSN}); got ${JSON.stringify(minLsn.slice(0, 40))}`);
    out.minLsn = BigInt(minLsn);
  }
  if (token !== undefined) {
    try {
      out.token = decodeConsistencyToken(token);
    } catch (err) {
      if (err instanceof PipelineError) throw badRequest(err.code, err.message);
      throw err;
    }
  }
  return out;
}

/** minLsn against the positions of the index's partitions; a token against its topic's partitions. */
export function requirementMet(req: Requirement, f: Freshness): boolean {
  if (req.minLsn !== undefined && !minLsnMet(req.minLsn, f)) return false;
  if (req.token && !tokenSatisfied(req.token, f.topic, (p) => f.positions.get(p))) return false;
  return true;
}

/**
 * Every partition that has a position must have reached minLsn. A partition without any
 * position has never had an event indexed: CDC topics get heartbeats on every partition, so
 * that is a partition of an upstream topic (POST /v1/events) no write went to. Requiring the
 * complete watermark (`f.lsn`) instead made every minLsn request on such an index wait the full
 * API_CONSISTENCY_WAIT_MS and answer stale, even minLsn=0. At least one position is needed: an
 * index nothing was published for cannot say a write is in. minLsn=0 is before every write.
 * A write to such a partition that is not indexed yet is invisible here; the consistency token
 * names its partition and waits for it exactly. A joined index's related topics count too: a
 * write to a child table is in once their partitions passed it.
 */
function minLsnMet(minLsn: bigint, f: Freshness): boolean {
  if (minLsn === 0n) return true;
  const positions = [...f.positions.values()];
  return positions.length > 0 && [...positions, ...(f.relatedPositions ?? [])].every((lsn) => lsn >= minLsn);
}
