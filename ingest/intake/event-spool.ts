import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { AcceptedEvent } from './event-check';

/**
 * Holds a request's validated events until the whole request is known to be valid, so a bad
 * line at the end leaves nothing written. Events stay in memory up to `memoryBytes`; past that
 * all of them move to a temporary file, so memory stays bounded whatever the body limit.
 */
export class EventSpool {
  private memory: AcceptedEvent[] = [];
  private memoryUsed = 0;
  private file: { dir: string; path: string; out: fs.WriteStream } | undefined;
  private count = 0;

  constructor(private readonly opts: { memoryBytes: number; dir?: string }) {}

  get size(): number {
    return this.count;
  }

  get spilled(): boolean {
    return this.file !== undefined;
  }

  async add(event: AcceptedEvent): Promise<void> {
    this.count += 1;
    if (!this.file) {
      this.memory.push(event);
      this.memoryUsed += event.value.length + event.key.length + 64;
      if (this.memoryUsed <= this.opts.memoryBytes) return;
      await this.spill();
      return;
    }
    await write(this.file.out, encode(event));
  }

  /** Every event in the order added. */
  async *events(): AsyncGenerator<AcceptedEvent> {
    if (!this.file) {
      yield* this.memory;
      return;
    }
    await new Promise<void>((resolve, reject) => this.file!.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    const lines = readline.createInterface({ input: fs.createReadStream(this.file.path), crlfDelay: Infinity });
    for await (const line of lines) yield decode(line);
  }

  /** Removes the temporary file; safe to call twice. */
  async dispose(): Promise<void> {
    this.memory = [];
    const file = this.file;
    this.file = undefined;
    if (!file) return;
    // Writes still buffered fail once destroyed; nobody needs them any more.
    file.out.on('error', () => undefined);
    if (!file.out.closed) await new Promise<void>((resolve) => file.out.once('close', () => resolve()).destroy());
    await fs.promises.rm(file.dir, { recursive: true, force: true });
  }

  private async spill(): Promise<void> {
    const dir = await fs.promises.mkdtemp(path.join(this.opts.dir ?? os.tmpdir(), 'ingest-intake-'));
    const file = path.join(dir, 'events.jsonl');
    this.file = { dir, path: file, out: fs.createWriteStream(file) };
    for (const e of this.memory) await write(this.file.out, encode(e));
    this.memory = [];
    this.memoryUsed = 0;
  }
}

function encode(e: AcceptedEvent): string {
  return JSON.stringify([e.topic, e.table, e.key, e.value, e.commitLsn, e.everyPartition ? 1 : 0]) + '\n';
}

function decode(line: string): AcceptedEvent {
  const [topic, table, key, value, commitLsn, every] = JSON.parse(line) as [string, string, string, string, string, number];
  return { topic, table, key, value, commitLsn, everyPartition: every === 1 };
}

/** Respects the stream's backpressure, so a fast request cannot queue the whole body in memory. */
function write(out: fs.WriteStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    out.once('error', onError);
    const done = (): void => {
      out.off('error', onError);
      resolve();
    };
    if (out.write(text)) done();
    else out.once('drain', done);
  });
}
