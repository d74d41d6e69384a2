import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import { checkBrowserKeyRequest, BrowserKeys } from '../api/auth/browser-keys';
import { ApiError } from '../api/errors';
import { loadApiKeysConfig, loadBrowserKeyCliConfig } from '../config';
import { loadPipelineConfig } from '../config/pipeline';
import { loadStackConfig } from '../config/stack-config';
import { errorMessage } from '../core/errors';
import { parseApiKey } from '../core/api-keys/api-key';
import { RedisApiKeyStore, type ApiKeyRecord } from '../core/api-keys/key-store';
import { parseScopes } from '../core/api-keys/scopes';
import { readEnvFile } from '../stack/env-file';
import { stackPaths } from '../stack/paths';

/**
 * `npm run api-keys -- create --tenant acme --scopes search,analytics [--name "reporting job"]`
 * prints a new key once (on stdout, alone, for scripts); `list` shows every key without secrets;
 * `revoke <id>` stops a key within API_KEY_CACHE_MS. Keys live in the Redis of REDIS_URL (or
 * API_REDIS_URL), else of the local stack's .stack/stack.env, under API_REDIS_PREFIX.
 * `browser-key` mints a short-lived browser key from a parent key (api/auth/browser-keys.ts), with
 * the API's API_BROWSER_KEY_SECRET and pipeline config (PIPELINE_CONFIG).
 */
const USAGE = `usage:
  npm run api-keys -- create --tenant <tenant> --scopes <search,analytics,ingest,admin> [--name <label>]
  npm run api-keys -- list [--json]
  npm run api-keys -- revoke <key id or key>
  npm run api-keys -- browser-key --parent <key id or key> --indexes <index,…> [--filter <filter>] [--ttl <seconds>] [--json]`;

const out = (m: string): void => void process.stdout.write(`${m}\n`);
const say = (m: string): void => void process.stderr.write(`${m}\n`);

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      scopes: { type: 'string' },
      name: { type: 'string' },
      json: { type: 'boolean' },
      parent: { type: 'string' },
      indexes: { type: 'string' },
      filter: { type: 'string' },
      ttl: { type: 'string' },
    },
  });
  const [command, ...rest] = positionals;
  if (!command) throw new UsageError('no command given');
  const stackEnv = readEnvFile(stackPaths(loadStackConfig().stackDir).envFile) ?? {};
  const env = { ...stackEnv, ...process.env };
  const config = loadApiKeysConfig(env);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 5_000, retryStrategy: () => null });
  redis.on('error', () => undefined); // the failing command reports it
  const store = new RedisApiKeyStore(redis, config.redisPrefix);
  try {
    switch (command) {
      case 'create': {
        if (rest.length) throw new UsageError(`create takes no positional arguments (got ${rest.join(' ')})`);
        if (!values.tenant) throw new UsageError('create needs --tenant <tenant>');
        if (!values.scopes) throw new UsageError('create needs --scopes <comma-separated scopes>');
        const { record, key } = await store.create({ tenant: values.tenant, scopes: parseScopes(values.scopes), ...(values.name ? { name: values.name } : {}) });
        say(`Created API key ${record.id} for tenant ${record.tenant} with scopes ${record.scopes.join(',')}. It is shown once; store it now:`);
        out(key);
        say('Send it as "Authorization: Bearer <key>" (or "X-API-Key: <key>") to an API running with API_AUTH=keys.');
        return;
      }
      case 'list': {
        const records = await store.list();
        if (values.json) out(JSON.stringify(records.map(({ hash: _hash, ...r }) => r), null, 2));
        else printTable(records);
        return;
      }
      case 'revoke': {
        const [arg] = rest;
        if (!arg || rest.length > 1) throw new UsageError('revoke needs exactly one key id (see `list`)');
        const id = parseApiKey(arg)?.id ?? arg.replace(/^spk_/, '').replace(/_…$/, '');
        if (!(await store.revoke(id))) throw new Error(`no API key with id ${JSON.stringify(id)}; \`npm run api-keys -- list\` shows the ids`);
        say(`Revoked API key ${id}. API instances refuse it within API_KEY_CACHE_MS (5 s by default).`);
        return;
      }
      case 'browser-key': {
        if (rest.length) throw new UsageError(`browser-key takes no positional arguments (got ${rest.join(' ')})`);
        if (!values.parent) throw new UsageError('browser-key needs --parent <key id or key> (see `list`)');
        const out_ = await mintFromCli(store, env, { parent: values.parent, indexes: values.indexes, filter: values.filter, ttl: values.ttl });
        if (values.json) out(JSON.stringify(out_, null, 2));
        else {
          say(`Browser key for tenant ${out_.tenant}, indexes ${out_.indexes.join(',')}${out_.filter ? `, filter ${out_.filter}` : ''}, expires ${out_.expiresAt}:`);
          out(out_.key);
        }
        return;
      }
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } finally {
    redis.disconnect();
  }
}

/** The parent must exist, be unrevoked and able to search; the request is checked as the API checks it. */
async function mintFromCli(store: RedisApiKeyStore, env: Record<string, string | undefined>, args: { parent: string; indexes: string | undefined; filter: string | undefined; ttl: string | undefined }) {
  const settings = loadBrowserKeyCliConfig(env);
  if (!settings.secret) throw new Error('API_BROWSER_KEY_SECRET is not set: give the CLI the same secret as the API (at least 32 characters), which then accepts the keys');
  const id = parseApiKey(args.parent)?.id ?? args.parent.replace(/^spk_/, '').replace(/_…$/, '');
  const record = await store.find(id);
  if (!record) throw new Error(`no API key with id ${JSON.stringify(id)}; \`npm run api-keys -- list\` shows the ids`);
  if (record.revokedAt) throw new Error(`API key ${id} was revoked at ${record.revokedAt}; mint from a current key`);
  if (args.ttl !== undefined && !/^\d+$/.test(args.ttl)) throw new UsageError(`--ttl ${JSON.stringify(args.ttl)} is not a whole number of seconds`);
  const ttlS = args.ttl === undefined ? Math.min(900, settings.maxTtlS) : Number(args.ttl);
  if (ttlS < 1) throw new UsageError('--ttl must be at least 1 second');
  const pipeline = loadPipelineConfig(settings.pipelineConfigPath);
  try {
    const req = checkBrowserKeyRequest(pipeline, args.indexes, args.filter, ttlS);
    const { key, claims } = new BrowserKeys({ secret: settings.secret, maxTtlS: settings.maxTtlS }).mint({ keyId: record.id, tenant: record.tenant, scopes: record.scopes }, req);
    return { key, parent: claims.parent, tenant: claims.tenant, indexes: claims.indexes, filter: claims.filter ?? null, scopes: ['search'], expiresAt: new Date(claims.expiresAt * 1000).toISOString() };
  } catch (err) {
    // The API's refusals (unknown index, bad filter, too long a lifetime) carry the same messages here.
    if (err instanceof ApiError) throw new UsageError(`${err.code}: ${err.message}`);
    throw err;
  }
}

function printTable(records: ApiKeyRecord[]): void {
  if (!records.length) return say('No API keys yet: `npm run api-keys -- create --tenant <tenant> --scopes search`.');
  const rows = [['ID', 'TENANT', 'SCOPES', 'CREATED', 'REVOKED', 'NAME'], ...records.map((r) => [r.id, r.tenant, r.scopes.join(','), r.createdAt, r.revokedAt ?? '-', r.name || '-'])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) out(row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

main(process.argv.slice(2)).catch((err: unknown) => {
  say(`api-keys: ${errorMessage(err)}`);
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) say(USAGE);
  process.exit(err instanceof UsageError ? 2 : 1);
});
