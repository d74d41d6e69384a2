import { KeyAuthError, KeyVerifier, type KeyVerifierOptions } from '../../core/api-keys/key-verifier';
import type { ApiKeyStore } from '../../core/api-keys/key-store';
import { ApiError } from '../errors';
import type { Principal } from './principal';

/**
 * Presented key → Principal, or an ApiError: the verification (format, hash, revocation, the
 * API_KEY_CACHE_MS cache, fail closed on a store outage) is core/api-keys' KeyVerifier, shared
 * with the ingest intake; this maps its refusals onto the API's error type.
 */
export type AuthenticatorOptions = KeyVerifierOptions;

export class Authenticator {
  private readonly verifier: KeyVerifier;

  constructor(store: ApiKeyStore, opts: AuthenticatorOptions) {
    this.verifier = new KeyVerifier(store, opts);
  }

  async authenticate(key: string): Promise<Principal> {
    try {
      return await this.verifier.verify(key);
    } catch (err) {
      throw toApiError(err);
    }
  }
}

export function toApiError(err: unknown): unknown {
  return err instanceof KeyAuthError ? new ApiError(err.status, err.code, err.message) : err;
}
