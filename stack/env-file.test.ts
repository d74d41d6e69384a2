import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseEnvFile, readEnvFile, renderEnvFile, writeFileAtomic } from './env-file';

describe('renderEnvFile', () => {
  it('writes KEY=VALUE lines in data-flow order and skips services that are not up', () => {
    const text = renderEnvFile({ API_URL: 'http://127.0.0.1:4000', REDIS_URL: 'redis://127.0.0.1:4001', DATABASE_URL: 'postgres://postgres@127.0.0.1:4002/postgres' });
    expect(text).toBe('DATABASE_URL=postgres://postgres@127.0.0.1:4002/postgres\nREDIS_URL=redis://127.0.0.1:4001\nAPI_URL=http://127.0.0.1:4000\n');
  });

  it('round-trips through parseEnvFile', () => {
    const env = { KAFKA_BROKERS: '127.0.0.1:1', ELASTICSEARCH_URL: 'http://127.0.0.1:2', API_URL: 'http://127.0.0.1:3' };
    expect(parseEnvFile(renderEnvFile(env))).toEqual(env);
  });
});

describe('parseEnvFile', () => {
  it('ignores comments, blank lines and lines without a key', () => {
    expect(parseEnvFile('# hi\n\n=x\nA=1\n B = two=2 \n')).toEqual({ A: '1', B: 'two=2' });
  });
});

describe('readEnvFile', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-env-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('returns undefined for a missing file or one without API_URL', () => {
    expect(readEnvFile(path.join(dir, 'missing'))).toBeUndefined();
    writeFileAtomic(path.join(dir, 'other.env'), 'FOO=1\n');
    expect(readEnvFile(path.join(dir, 'other.env'))).toBeUndefined();
  });

  it('reads the variables back, leaving out unknown keys', () => {
    writeFileAtomic(path.join(dir, 'stack.env'), 'API_URL=http://127.0.0.1:9\nREDIS_URL=redis://127.0.0.1:8\nEXTRA=1\n');
    expect(readEnvFile(path.join(dir, 'stack.env'))).toEqual({ API_URL: 'http://127.0.0.1:9', REDIS_URL: 'redis://127.0.0.1:8' });
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
