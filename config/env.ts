import { ConfigError } from '../core/errors';

/**
 * Typed readers over an environment map. Each failure names the variable, what it holds
 * now and what it should hold, because a config error is read by a person at a terminal.
 */
export type Env = Readonly<Record<string, string | undefined>>;

export function str(env: Env, name: string, fallback?: string): string {
  const raw = env[name]?.trim();
  if (raw) return raw;
  if (fallback !== undefined) return fallback;
  throw new ConfigError(`${name} is not set. ${HINTS[name] ?? 'Set it in the environment.'}`, { variable: name });
}

export function optionalStr(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw ? raw : undefined;
}

export function int(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(`${name}=${JSON.stringify(raw)} is not an integer; expected a whole number between ${min} and ${max} (default ${fallback}).`, { variable: name });
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name}=${raw} is out of range; expected ${min}..${max} (default ${fallback}).`, { variable: name });
  return n;
}

export function url(env: Env, name: string, protocols: string[], fallback?: string): string {
  const raw = str(env, name, fallback);
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a URL; expected e.g. ${EXAMPLES[name] ?? `${protocols[0]}//host:port`}.`, { variable: name });
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} uses ${parsed.protocol}; expected ${protocols.join(' or ')} (e.g. ${EXAMPLES[name] ?? ''}).`, { variable: name });
  }
  return raw;
}

export function hostPorts(env: Env, name: string): string[] {
  const raw = str(env, name);
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const hp of list) {
    if (!/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(hp)) {
      throw new ConfigError(`${name} has ${JSON.stringify(hp)}; expected a comma-separated list of host:port (e.g. 127.0.0.1:9092).`, { variable: name });
    }
  }
  return list;
}

export function identifier(env: Env, name: string, fallback: string): string {
  const raw = str(env, name, fallback);
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(raw)) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a valid name; use lower-case letters, digits and _ (max 63), starting with a letter or _.`, { variable: name });
  }
  return raw;
}

const HINTS: Record<string, string> = {
  DATABASE_URL: 'Expected a Postgres URL like postgres://user@127.0.0.1:5432/db; `npm start` writes one to .stack/stack.env.',
  KAFKA_BROKERS: 'Expected host:port[,host:port]; `npm start` writes one to .stack/stack.env.',
  ELASTICSEARCH_URL: 'Expected an http(s) URL like http://127.0.0.1:9200; `npm start` writes one to .stack/stack.env.',
};
const EXAMPLES: Record<string, string> = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
  ELASTICSEARCH_URL: 'http://127.0.0.1:9200',
  REDIS_URL: 'redis://127.0.0.1:6379',
  API_URL: 'http://127.0.0.1:8080',
};
