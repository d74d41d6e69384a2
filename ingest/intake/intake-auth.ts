import type { Context, Next } from 'koa';
import { KeyAuthError, missingScopeMessage, presentedKey, type KeyVerifier, type VerifiedKey } from '../../core/api-keys/key-verifier';
import { hasScope } from '../../core/api-keys/scopes';
import { IntakeError } from './intake-error';

/** API_AUTH=off: anyone may send events, for every tenant. keys: an API key with the `ingest` scope. */
export type IntakeAuth = { mode: 'off' } | { mode: 'keys'; verifier: KeyVerifier };

const RETRY_AFTER_S = 1;

/**
 * Puts the caller's key on ctx.state for /v1 routes (the API's rule: probes stay open): 401 for
 * a missing or bad key, 403 without the `ingest` scope, 503 when the key store cannot be read
 * (fail closed), with the API's codes and messages (core/api-keys). With auth off, no caller is
 * set and no tenant is enforced.
 */
export function intakeAuthMiddleware(auth: IntakeAuth) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (auth.mode === 'keys' && ctx.path.startsWith('/v1/')) {
      let caller: VerifiedKey;
      try {
        caller = await auth.verifier.verify(presentedKey(ctx.get('Authorization'), ctx.get('X-API-Key')));
      } catch (err) {
        if (!(err instanceof KeyAuthError)) throw err;
        if (err.status === 401) ctx.set('WWW-Authenticate', 'Bearer realm="search-pipeline"');
        throw new IntakeError(err.status, err.code, err.message, err.status === 503 ? { retryAfterS: RETRY_AFTER_S } : {});
      }
      if (!hasScope(caller.scopes, 'ingest')) throw new IntakeError(403, 'SCOPE_MISSING', missingScopeMessage(caller.keyId, caller.scopes, 'ingest'));
      (ctx.state as { caller?: VerifiedKey }).caller = caller;
    }
    await next();
  };
}

/** The tenant the request writes for: the key's, or undefined when keys are off (unrestricted). */
export function callerTenant(ctx: Context): string | undefined {
  return (ctx.state as { caller?: VerifiedKey }).caller?.tenant;
}
