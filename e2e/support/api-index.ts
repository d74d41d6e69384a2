import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import request from 'supertest';
import { parsePipelineConfig, type IndexSpec, type PipelineConfig } from '../../config/pipeline';
import { silentLogger } from '../../core/logger';
import { createApp } from '../../api/app';
import { createApiMetrics } from '../../api/metrics';
import { EsSearchBackend } from '../../api/search/es-search-backend';
import { concreteIndexName, ensureIndex } from '../../indexer/mappings';
import { uniqueName } from './services';

/**
 * A uniquely named copy of the demo index (the indexer's own mapping code creates it), loaded
 * with fixture documents, and the API app over the real EsSearchBackend, driven by supertest.
 */
export interface ApiIndex {
  spec: IndexSpec;
  pipeline: PipelineConfig;
  /** The pipeline config file text, for an API started as its own process. */
  pipelineJson: string;
  http: ReturnType<typeof request>;
  path: (route: string) => string;
  drop: () => Promise<void>;
}

export async function createApiIndex(es: Client, docs: Array<Record<string, unknown> & { id: string }>): Promise<ApiIndex> {
  const demo = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'config', 'pipelines', 'demo.json'), 'utf8')) as { indexes: Record<string, unknown> };
  const name = uniqueName('api_software');
  const pipelineJson = JSON.stringify({ version: 1, indexes: { [name]: demo.indexes.software } });
  const pipeline = parsePipelineConfig(pipelineJson);
  const spec = pipeline.indexes[0] as IndexSpec;
  await ensureIndex(es, spec);
  const operations = docs.flatMap(({ id, ...doc }) => [{ index: { _index: spec.name, _id: id } }, doc]);
  const res = await es.bulk({ refresh: true, operations });
  if (res.errors) throw new Error(`fixture bulk failed: ${JSON.stringify(res.items.find((i) => i.index?.error))}`);
  const metrics = createApiMetrics();
  const backend = new EsSearchBackend(es, { timeoutMs: 5000, cursorKeepAliveS: 60, observe: metrics.observeElasticsearch });
  const app = createApp({ pipeline, search: backend, metrics, log: silentLogger, cursorSecret: 'test-secret-0123456789' });
  return {
    spec,
    pipeline,
    pipelineJson,
    http: request(app.callback()),
    path: (route) => `/v1/indexes/${name}/${route}`,
    drop: async () => {
      await es.indices.delete({ index: concreteIndexName(spec) }, { ignore: [404] });
    },
  };
}

/** A small software list in the shape of the demo index: systems, years, publishers, dates. */
export function softwareFixtures(): Array<Record<string, unknown> & { id: string }> {
  const rows: Array<[string, string, string, number, string, string]> = [
    ['The Legend of Zelda', 'nes', 'Nintendo', 1986, '1986-02-21', 'yes'],
    ['Zelda II: The Adventure of Link', 'nes', 'Nintendo', 1987, '1987-01-14', 'yes'],
    ['The Legend of Zelda: A Link to the Past', 'snes', 'Nintendo', 1991, '1991-11-21', 'yes'],
    ['Super Mario Bros.', 'nes', 'Nintendo', 1985, '1985-09-13', 'yes'],
    ['Super Mario World', 'snes', 'Nintendo', 1990, '1990-11-21', 'yes'],
    ['Super Maria Quest', 'gameboy', 'Hudson Soft', 1993, '1993-05-01', 'partial'],
    ['Sonic the Hedgehog', 'megadriv', 'Sega', 1991, '1991-06-23', 'yes'],
    ['Sonic the Hedgehog 2', 'megadriv', 'Sega', 1992, '1992-11-21', 'yes'],
    ['Street Fighter II', 'snes', 'Capcom', 1992, '1992-06-10', 'yes'],
    ['Street Fighter Alpha', 'psx', 'Capcom', 1995, '1995-06-27', 'no'],
    ['Mega Man', 'nes', 'Capcom', 1987, '1987-12-17', 'yes'],
    ['Mega Man X', 'snes', 'Capcom', 1993, '1993-12-17', 'yes'],
    ['Metroid', 'nes', 'Nintendo', 1986, '1986-08-06', 'yes'],
    ['Super Metroid', 'snes', 'Nintendo', 1994, '1994-03-19', 'yes'],
    ['Castlevania', 'nes', 'Konami', 1986, '1986-09-26', 'yes'],
    ['Contra', 'nes', 'Konami', 1988, '1988-02-09', 'partial'],
    ['Gradius', 'nes', 'Konami', 1986, '1986-04-25', 'yes'],
    ['Tetris', 'gameboy', 'Nintendo', 1989, '1989-06-14', 'yes'],
    ['Final Fantasy', 'nes', 'Square', 1987, '1987-12-18', 'yes'],
    ['Chrono Trigger', 'snes', 'Square', 1995, '1995-03-11', 'yes'],
    ['Secret of Mana', 'snes', 'Square', 1993, '1993-08-06', 'no'],
    ['Phantasy Star', 'sms', 'Sega', 1987, '1987-12-20', 'yes'],
    ['Alex Kidd in Miracle World', 'sms', 'Sega', 1986, '1986-11-01', 'yes'],
    ['Wonder Boy', 'sms', 'Sega', 1986, '1986-06-15', 'partial'],
    ['Gunstar Heroes', 'megadriv', 'Sega', 1993, '1993-09-09', 'yes'],
  ];
  return rows.map(([title, system, publisher, year, date, supported], i) => ({
    id: `sw${String(i + 1).padStart(2, '0')}`,
    title,
    name: title.toLowerCase().replace(/[^a-z0-9]+/g, ''),
    system,
    system_name: { nes: 'Nintendo Entertainment System', snes: 'Super Nintendo', gameboy: 'Game Boy', megadriv: 'Mega Drive', psx: 'PlayStation', sms: 'Master System' }[system],
    publisher,
    supported,
    year,
    release_date: date,
    rom_bytes: 32_768 * (i + 1),
  }));
}
