import type Redis from 'ioredis';

/** Something the API cannot serve without; /readyz is 200 only while every check passes. */
export interface ReadinessCheck {
  name: string;
  /** What a caller should know when it fails, e.g. "Elasticsearch is not answering". */
  failure: string;
  ready: () => Promise<boolean>;
}

/** The names of the checks that failed, all run at once, each bounded by `timeoutMs`. */
export async function failedChecks(checks: readonly ReadinessCheck[], timeoutMs: number): Promise<ReadinessCheck[]> {
  const results = await Promise.all(checks.map((c) => withTimeout(c.ready().catch(() => false), timeoutMs)));
  return checks.filter((_, i) => !results[i]);
}

/** Redis answers PING: with API keys on, no key can be verified without it (fail closed). */
export function redisReadiness(redis: Redis, failure: string): ReadinessCheck {
  return { name: 'redis', failure, ready: async () => (await redis.ping()) === 'PONG' };
}

/** A check that does not answer in time is a failed one: /readyz must never hang itself. */
async function withTimeout(p: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
