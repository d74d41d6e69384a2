import crypto from 'node:crypto';

/**
 * The server side of SCRAM (RFC 5802) for unit tests: holds one user's stored and server keys as
 * a broker does, checks the client's proof and signs the exchange. `proofOk` after the last step.
 */
export function scramServer(hash: 'sha256' | 'sha512', user: { name: string; password: string }, iterations = 4096) {
  const len = hash === 'sha256' ? 32 : 64;
  const salt = crypto.randomBytes(16);
  const salted = crypto.pbkdf2Sync(user.password, salt, iterations, len, hash);
  const hmac = (key: Buffer, text: string) => crypto.createHmac(hash, key).update(text).digest();
  const storedKey = crypto.createHash(hash).update(hmac(salted, 'Client Key')).digest();
  const serverKey = hmac(salted, 'Server Key');
  let firstBare = '';
  let serverFirst = '';
  const state = { proofOk: false };
  return {
    state,
    /** client-first → server-first, or an `e=` error for an unknown user. */
    first(clientFirst: string): string {
      firstBare = clientFirst.replace(/^n,,/, '');
      const attrs = Object.fromEntries(firstBare.split(',').map((p) => [p[0], p.slice(2)]));
      if (attrs.n !== user.name) return 'e=unknown-user';
      serverFirst = `r=${attrs.r}${crypto.randomBytes(12).toString('base64')},s=${salt.toString('base64')},i=${iterations}`;
      return serverFirst;
    },
    /** client-final → server-final (`v=`), or `e=invalid-proof`. */
    final(clientFinal: string): string {
      const withoutProof = clientFinal.slice(0, clientFinal.lastIndexOf(',p='));
      const proof = Buffer.from(clientFinal.slice(clientFinal.lastIndexOf(',p=') + 3), 'base64');
      const authMessage = `${firstBare},${serverFirst},${withoutProof}`;
      const signature = hmac(storedKey, authMessage);
      const clientKey = Buffer.alloc(len);
      for (let i = 0; i < len; i++) clientKey[i] = (proof[i] ?? 0) ^ signature[i]!;
      state.proofOk = crypto.createHash(hash).update(clientKey).digest().equals(storedKey);
      return state.proofOk ? `v=${hmac(serverKey, authMessage).toString('base64')}` : 'e=invalid-proof';
    },
  };
}
