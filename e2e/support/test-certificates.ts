import fs from 'node:fs';
import path from 'node:path';
import { runCommand } from '../../stack/process';

export interface TestCertificates {
  /** PEM of the CA that signed both certificates (KAFKA_TLS_CA_FILE). */
  caFile: string;
  /** The server's key and certificate in one PEM file (a Kafka PEM keystore), valid for 127.0.0.1 and localhost. */
  serverPemFile: string;
  /** A client certificate and its key, signed by the same CA (KAFKA_TLS_CERT_FILE, KAFKA_TLS_KEY_FILE). */
  clientCertFile: string;
  clientKeyFile: string;
}

/** A throwaway CA, a server certificate for loopback and a client certificate, made with openssl in `dir`. */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  const f = (name: string) => path.join(dir, name);
  const openssl = async (...args: string[]): Promise<void> => {
    const r = await runCommand('openssl', args);
    if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} failed (exit ${r.code}): ${r.output}`);
  };
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=test-ca');
  const signed = async (name: string, cn: string, ext: string): Promise<void> => {
    fs.writeFileSync(f(`${name}.ext`), `${ext}\n`);
    await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`);
    await openssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.crt`), '-days', '2', '-extfile', f(`${name}.ext`));
  };
  await signed('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth');
  await signed('client', 'pipeline-client', 'extendedKeyUsage=clientAuth');
  // Kafka's PEM keystore: the (unencrypted PKCS#8) key followed by the certificate chain.
  fs.writeFileSync(f('server.pem'), fs.readFileSync(f('server.key'), 'utf8') + fs.readFileSync(f('server.crt'), 'utf8'));
  return { caFile: f('ca.crt'), serverPemFile: f('server.pem'), clientCertFile: f('client.crt'), clientKeyFile: f('client.key') };
}
