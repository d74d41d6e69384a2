import fs from 'node:fs';
import path from 'node:path';
import { SERVICE_NODE_FLAGS, serviceNodeArgs, type ServiceName } from './service-runtime';

const compose = fs.readFileSync(path.join(__dirname, '..', 'docker-compose.yml'), 'utf8');

describe('service runtime flags', () => {
  it.each(['ingest', 'indexer', 'api'] as ServiceName[])('docker-compose.yml starts %s with the same node flags as npm start, from the compiled build', (name) => {
    const block = new RegExp(`\\n {2}${name}:[\\s\\S]*?command: (\\[.*\\])`).exec(compose)?.[1];
    expect(block).toBeDefined();
    expect(JSON.parse(block!)).toEqual(['node', ...SERVICE_NODE_FLAGS[name], `dist/${name}/main.js`]);
  });

  it('starts ingest and the indexer with a young generation large enough for batches in flight', () => {
    expect(serviceNodeArgs('ingest')).toEqual(['--max-semi-space-size=32', '--import', 'tsx', path.join(__dirname, '..', 'ingest', 'main.ts')]);
    expect(serviceNodeArgs('indexer')).toEqual(['--max-semi-space-size=32', '--import', 'tsx', path.join(__dirname, '..', 'indexer', 'main.ts')]);
  });
});
