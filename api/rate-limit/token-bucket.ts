/**
 * Token bucket: a key holds up to `burst` tokens, refilled at `ratePerSec`; a request takes one.
 * This is the reference model of the Lua script below (the integration test runs both on the same
 * clock and compares); the script is what runs, atomically in Redis, so every API instance shares
 * one bucket per key.
 */
export interface BucketState {
  tokens: number;
  /** When `tokens` was computed, ms. */
  atMs: number;
}

export interface TakeResult {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** When denied: ms until one token is back; 0 when allowed. */
  retryAfterMs: number;
  state: BucketState;
}

export function takeToken(prev: BucketState | undefined, nowMs: number, ratePerSec: number, burst: number): TakeResult {
  let tokens = prev ? prev.tokens : burst;
  let atMs = prev ? prev.atMs : nowMs;
  // A clock that went backwards (another instance's) refills nothing rather than going negative.
  if (nowMs > atMs) {
    tokens = Math.min(burst, tokens + ((nowMs - atMs) * ratePerSec) / 1000);
    atMs = nowMs;
  }
  if (tokens >= 1) return { allowed: true, remaining: Math.floor(tokens - 1), retryAfterMs: 0, state: { tokens: tokens - 1, atMs } };
  return { allowed: false, remaining: 0, retryAfterMs: Math.ceil(((1 - tokens) * 1000) / ratePerSec), state: { tokens, atMs } };
}

/** Seconds for a Retry-After header: whole seconds, at least 1 (0 would invite an immediate retry). */
export const retryAfterSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/**
 * The same arithmetic in Redis. KEYS[1] = bucket; ARGV = ratePerSec, burst, nowMs (empty: the
 * Redis server's clock, so API instances with skewed clocks still agree). Returns
 * { allowed 0|1, retryAfterMs, remaining }. The bucket expires once it would be full again.
 */
export const TOKEN_BUCKET_LUA = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if not tokens or not at then
  tokens = burst
  at = now
end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
  at = now
end
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%d', at))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return { allowed, retry, math.floor(tokens) }
`;
