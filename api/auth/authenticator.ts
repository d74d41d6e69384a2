import { BrowserKeyError, isBrowserKey } from '../../core/api-keys/browser-key';
import { KeyAuthError, KeyVerifier, type KeyVerifierOptions } from '../../core/api-keys/key-verifier';
import type { ApiKeyStore } from '../../core/api-keys/key-store';
import { ApiError } from '../errors';
import { BrowserKeys } from './browser-keys';
import type { Principal } from './principal';

/**
 * Presented key → Principal, or an ApiError: the verification (format, hash, revocation, the
 * API_KEY_CACHE_MS cache, fail closed on a store outage) is core/api-keys' KeyVerifier, shared
 * with the ingest intake; this maps its refusals onto the API's error type. Browser keys (spb_…)
 * are checked by their signature and expiry here, and their parent through the same verifier.
 */
export type AuthenticatorOptions = KeyVerifierOptions;

export class Authenticator {
  private readonly verifier: KeyVerifier;

  /** `browserKeys`: how browser keys are signed (API_BROWSER_KEY_SECRET); none: they are refused. */
  constructor(store: ApiKeyStore, opts: AuthenticatorOptions, readonly browserKeys?: BrowserKeys) {
    this.verifier = new KeyVerifier(store, opts);
  }

  async authenticate(key: string): Promise<Principal> {
    try {
      if (isBrowserKey(key)) return await this.authenticateBrowserKey(key);
      return await this.verifier.verify(key);
    } catch (err) {
      throw toApiError(err);
    }
  }

  private async authenticateBrowserKey(key: string): Promise<Principal> {
    if (!this.browserKeys) throw new ApiError(401, 'API_KEY_INVALID', 'this API does not accept browser keys (API_BROWSER_KEY_SECRET is not set); send an API key');
    const claims = this.browserKeys.verify(key);
    const principal = BrowserKeys.principal(claims, await this.verifier.verifyId(claims.parent));
    if (!principal) throw new ApiError(401, 'API_KEY_INVALID', 'the browser key does not match its parent API key (tenant or search scope); mint a new one');
    return principal;
  }
}

export function toApiError(err: unknown): unknown {
  if (err instanceof BrowserKeyError) return new ApiError(401, err.code, err.message);
  return err instanceof KeyAuthError ? new ApiError(err.status, err.code, err.message) : err;
}
