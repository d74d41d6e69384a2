import crypto from 'node:crypto';

export type ScramHash = 'sha256' | 'sha512';

/**
 * The client side of SCRAM (RFC 5802; SHA-256 per RFC 7677, SHA-512 as Kafka names it), without
 * channel binding ("n,,") or extensions, as Kafka's SCRAM-SHA-256/512 listeners expect. Three
 * steps: `first()` → the server's first message to `final()` → its last message to `verify()`,
 * which checks the server knew the password too (a listener that accepts anyone fails there).
 * The password goes in as UTF-8 without SASLprep, as Kafka's own clients send it.
 */
export class ScramClient {
  private readonly clientNonce: string;
  private firstBare = '';
  private expectedServerSignature: Buffer | undefined;

  constructor(
    private readonly hash: ScramHash,
    private readonly username: string,
    private readonly password: string,
    /** Tests pin it (RFC 7677's vector); otherwise 24 random bytes. */
    nonce?: string,
  ) {
    this.clientNonce = nonce ?? crypto.randomBytes(24).toString('base64');
  }

  first(): string {
    this.firstBare = `n=${saslName(this.username)},r=${this.clientNonce}`;
    return `n,,${this.firstBare}`;
  }

  final(serverFirst: string): string {
    const attrs = parseAttributes(serverFirst);
    if (attrs.e) throw new ScramError(`the server refused the first SCRAM message: ${attrs.e}`);
    const nonce = attrs.r;
    const salt = attrs.s;
    const iterations = Number(attrs.i);
    if (!nonce || !salt || !Number.isInteger(iterations) || iterations < 1) throw new ScramError(`the server's first SCRAM message is malformed: ${JSON.stringify(serverFirst)}`);
    if (!nonce.startsWith(this.clientNonce) || nonce.length === this.clientNonce.length) throw new ScramError('the server\'s SCRAM nonce does not extend ours');
    const len = this.hash === 'sha256' ? 32 : 64;
    const salted = crypto.pbkdf2Sync(Buffer.from(this.password, 'utf8'), Buffer.from(salt, 'base64'), iterations, len, this.hash);
    const clientKey = this.hmac(salted, 'Client Key');
    const storedKey = crypto.createHash(this.hash).update(clientKey).digest();
    const withoutProof = `c=biws,r=${nonce}`; // biws: base64 of the "n,," header
    const authMessage = `${this.firstBare},${serverFirst},${withoutProof}`;
    const clientSignature = this.hmac(storedKey, authMessage);
    const proof = Buffer.alloc(len);
    for (let i = 0; i < len; i++) proof[i] = clientKey[i]! ^ clientSignature[i]!;
    this.expectedServerSignature = this.hmac(this.hmac(salted, 'Server Key'), authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  verify(serverFinal: string): void {
    const attrs = parseAttributes(serverFinal);
    if (attrs.e) throw new ScramError(`the server refused the SCRAM proof: ${attrs.e}`);
    if (!this.expectedServerSignature) throw new ScramError('SCRAM verify() called before final()');
    const got = Buffer.from(attrs.v ?? '', 'base64');
    if (got.length !== this.expectedServerSignature.length || !crypto.timingSafeEqual(got, this.expectedServerSignature)) {
      throw new ScramError('the server\'s SCRAM signature does not match: it does not hold this user\'s credentials (a wrong broker, or someone in between)');
    }
  }

  private hmac(key: Buffer, text: string): Buffer {
    return crypto.createHmac(this.hash, key).update(text, 'utf8').digest();
  }
}

export class ScramError extends Error {
  override name = 'ScramError';
}

/** RFC 5802 5.1: "=" and "," in a user name are sent as =3D and =2C. */
const saslName = (s: string): string => s.replace(/=/g, '=3D').replace(/,/g, '=2C');

function parseAttributes(message: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) out[part[0]!] = part.slice(2);
  }
  return out;
}
