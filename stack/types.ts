/** The services the stack can run, in the order they are reported. */
export const SERVICE_NAMES = ['postgres', 'kafka', 'elasticsearch', 'redis'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Named ports of one service, e.g. `{ port, controllerPort }`; `port` is always the client port. */
export type ServicePorts = Readonly<Record<string, number>>;

/** What `stack.env` holds; a service's variable is absent when that service is not up. */
export interface StackEnv {
  DATABASE_URL?: string;
  KAFKA_BROKERS?: string;
  ELASTICSEARCH_URL?: string;
  REDIS_URL?: string;
  /** A port that was free at `up`, set aside for the API so tests and humans agree on it. */
  API_URL: string;
}

export type LogFn = (message: string) => void;

export function isServiceName(value: string): value is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(value);
}

/** Parses `--services a,b`; an unknown name is an error rather than silently ignored. */
export function parseServiceList(csv: string): ServiceName[] {
  const names = csv.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !isServiceName(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(`--services expects a comma-separated list of ${SERVICE_NAMES.join(', ')}; got ${JSON.stringify(csv)}`);
  }
  // Keep the canonical order and drop duplicates so output and start order are stable.
  return SERVICE_NAMES.filter((n) => names.includes(n));
}
