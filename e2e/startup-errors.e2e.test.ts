import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startService, type RunningService } from './support/processes';

/**
 * A service given a bad environment or pipeline config exits non-zero at once with one message
 * that names what is wrong and what to do, instead of half starting.
 */
async function exitOf(s: RunningService): Promise<{ code: number | null; output: string }> {
  const code = await new Promise<number | null>((resolve) => {
    if (s.child.exitCode !== null) resolve(s.child.exitCode);
    else s.child.once('exit', (c) => resolve(c));
  });
  return { code, output: s.output() };
}

describe('service start-up with bad configuration', () => {
  it('ingest names a malformed variable', async () => {
    const { code, output } = await exitOf(startService('ingest', { KAFKA_BROKERS: 'no-port-here' }));
    expect(code).toBe(1);
    expect(output).toMatch(/ingest failed to start: KAFKA_BROKERS has "no-port-here"; expected a comma-separated list of host:port/);
  });

  it('indexer names a missing variable and where to get it', async () => {
    const { code, output } = await exitOf(startService('indexer', { ELASTICSEARCH_URL: '' }));
    expect(code).toBe(1);
    expect(output).toMatch(/indexer failed to start: ELASTICSEARCH_URL is not set\. .*stack\.env/);
  });

  it('api names the pipeline file, the path inside it and the fix', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bad-pipeline-')), 'pipeline.json');
    fs.writeFileSync(file, JSON.stringify({ version: 1, indexes: { books: { table: 'books', fields: { title: { type: 'txt', searchable: true } } } } }));
    const { code, output } = await exitOf(startService('api', { PIPELINE_CONFIG: file }));
    expect(code).toBe(1);
    expect(output).toContain(`api failed to start: pipeline config ${file} is invalid`);
    expect(output).toMatch(/\/indexes\/books\/fields\/title\/type: must be equal to one of the allowed values: text, keyword/);
  });

  it('api says the port is taken and which variable moves it', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const { code, output } = await exitOf(startService('api', { API_PORT: String(port) }));
      expect(code).toBe(1);
      expect(output).toContain(`api failed to start: port ${port} on 127.0.0.1 is taken; set API_PORT (or API_URL) to a free port`);
    } finally {
      blocker.close();
    }
  });
});
