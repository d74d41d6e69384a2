import { parsePipelineConfig } from '../../config/pipeline';
import type { ChangeEvent } from '../../core/change-event';
import { joinedIndexes, rebuildRequests } from './rebuild-requests';

const pipeline = parsePipelineConfig(JSON.stringify({ version: 1, indexes: {
  orders: {
    table: 'orders', fields: { number: { type: 'keyword', searchable: true } },
    relations: {
      customer: { table: 'customers', kind: 'many-to-one', on: { customer_id: 'id' }, fields: { name: { type: 'text' } } },
      tags: { table: 'tags', kind: 'many-to-many', on: { id: 'order_id' }, through: { table: 'order_tags', on: { tag_id: 'id' } }, fields: { label: { type: 'keyword' } } },
    },
  },
  flat: { table: 'customers', fields: { name: { type: 'text', searchable: true } } },
} }));
const joined = joinedIndexes(pipeline.indexes);
const origin = { topic: 't', partition: 0, offset: '7' };
const event = (table: string, op: ChangeEvent['op']): ChangeEvent => ({ v: 1, op, source: { schema: 'public', table }, key: { id: 1 }, ...(op === 'd' || op === 't' || op === 'h' ? {} : { after: { id: 1 } }), lsn: '90', commitLsn: '100', txId: 1, ts: '2026-01-01T00:00:00Z' });

describe('rebuildRequests', () => {
  it('only indexes with relations are joined', () => {
    expect(joined.map((i) => i.name)).toEqual(['orders']);
  });

  it('a root change names its own document, deletes and snapshot reads included', () => {
    for (const op of ['c', 'u', 'd', 'r'] as const) expect(rebuildRequests(event('orders', op), origin, joined)).toEqual([{ index: 'orders', kind: 'root', source: { schema: 'public', table: 'orders' }, key: { id: 1 }, version: '100', op, lsn: '90', origin }]);
  });

  it('a related or through row change asks for the documents that hold it; its snapshot read asks for nothing', () => {
    for (const table of ['customers', 'tags', 'order_tags']) {
      expect(rebuildRequests(event(table, 'u'), origin, joined).map((r) => r.kind)).toEqual(['related']);
      expect(rebuildRequests(event(table, 'd'), origin, joined).map((r) => r.kind)).toEqual(['related']);
      expect(rebuildRequests(event(table, 'r'), origin, joined)).toEqual([]);
    }
  });

  it('a related table truncate rebuilds its documents; the root table truncate and heartbeats are not requests', () => {
    expect(rebuildRequests(event('tags', 't'), origin, joined).map((r) => r.kind)).toEqual(['truncate']);
    expect(rebuildRequests(event('orders', 't'), origin, joined)).toEqual([]);
    expect(rebuildRequests(event('orders', 'h'), origin, joined)).toEqual([]);
    expect(rebuildRequests(event('elsewhere', 'u'), origin, joined)).toEqual([]);
  });
});
