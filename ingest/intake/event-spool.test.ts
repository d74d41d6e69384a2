import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AcceptedEvent } from './event-check';
import { EventSpool } from './event-spool';

const event = (i: number): AcceptedEvent => ({
  topic: 'cdc.public.t',
  table: 'public.t',
  key: JSON.stringify({ id: i }),
  value: JSON.stringify({ v: 1, op: 'u', key: { id: i }, after: { text: `tab\there\nnewline ${'é'.repeat(i % 7)}` } }),
  commitLsn: String(1000 + i),
  everyPartition: i % 10 === 0,
});

async function collect(spool: EventSpool): Promise<AcceptedEvent[]> {
  const out: AcceptedEvent[] = [];
  for await (const e of spool.events()) out.push(e);
  return out;
}

describe('EventSpool', () => {
  it('keeps a small request in memory', async () => {
    const spool = new EventSpool({ memoryBytes: 1_000_000 });
    const events = [1, 2, 3].map(event);
    for (const e of events) await spool.add(e);
    expect(spool.spilled).toBe(false);
    expect(await collect(spool)).toEqual(events);
    await spool.dispose();
  });

  it('moves to a temporary file past its memory budget, gives every event back in order, and removes the file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-test-'));
    const spool = new EventSpool({ memoryBytes: 2_000, dir });
    const events = Array.from({ length: 500 }, (_, i) => event(i));
    for (const e of events) await spool.add(e);
    expect(spool.spilled).toBe(true);
    expect(spool.size).toBe(500);
    expect(fs.readdirSync(dir)).toHaveLength(1);
    expect(await collect(spool)).toEqual(events);
    await spool.dispose();
    await spool.dispose();
    expect(fs.readdirSync(dir)).toHaveLength(0);
    fs.rmdirSync(dir);
  });

  it('can be disposed with writes still buffered (a rejected request) without an unhandled stream error', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-test-'));
    const errors: unknown[] = [];
    const onError = (err: unknown): void => void errors.push(err);
    process.on('uncaughtException', onError);
    try {
      const spool = new EventSpool({ memoryBytes: 2_000, dir });
      for (let i = 0; i < 2000; i++) await spool.add(event(i));
      await spool.dispose();
      await new Promise((r) => setTimeout(r, 100));
      expect(errors).toEqual([]);
      expect(fs.readdirSync(dir)).toHaveLength(0);
    } finally {
      process.off('uncaughtException', onError);
      fs.rmdirSync(dir);
    }
  });
});
