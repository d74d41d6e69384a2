import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../core/logger';
import type { BatchProducer, PartitionBatch } from './batch-producer';

export interface WorkerSetup {
  brokers: string[];
  clientId: string;
}
export type ToWorker = { type: 'send'; id: number; batches: readonly PartitionBatch[] } | { type: 'close' };
type WireError = { name: string; message: string };
export type ToMain =
  | { type: 'ready' }
  | { type: 'connect-failed'; error: WireError }
  | { type: 'done'; id: number }
  | { type: 'failed'; id: number; error: WireError }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; msg: string; ctx?: Record<string, unknown> }
  | { type: 'closed' };

/**
 * A BatchProducer whose Kafka producer (wire/wire-producer.ts) runs in a worker thread
 * (producer-worker.ts): requests, socket writes and the broker's answers run beside the decoding.
 * What crosses the thread boundary is each partition's encoded record batch, moved (transferred)
 * when it owns its memory, copied otherwise. Nothing about
 * acknowledgements changes: `send` resolves only when the worker reports that Kafka acknowledged
 * that send (acks=all), sends are handled in order one at a time, and a dead worker fails every
 * send in flight (the caller then stops, and a restart resumes from the last confirmed commit).
 */
export class ThreadedProducer implements BatchProducer {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private dead: Error | undefined;
  private closed: Promise<void> | undefined;

  constructor(
    private readonly setup: WorkerSetup,
    private readonly log: Logger,
    /** The thread's script; tests replace it with one that fails on purpose. */
    private readonly workerFile = path.join(__dirname, 'producer-worker.ts'),
  ) {}

  connect(): Promise<void> {
    // The worker is plain Node: it loads TypeScript through tsx itself, also under jest.
    const bootstrap = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(this.workerFile)});`;
    const worker = new Worker(bootstrap, { eval: true, workerData: this.setup });
    this.worker = worker;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (m: ToMain) => {
        switch (m.type) {
          case 'ready':
            return resolve();
          case 'connect-failed':
            return reject(asError(m.error));
          case 'done':
            return this.settle(m.id)?.resolve();
          case 'failed':
            return this.settle(m.id)?.reject(asError(m.error));
          case 'log':
            return this.log[m.level](m.msg, m.ctx);
          case 'closed':
            return;
        }
      });
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        const err = new Error(`the Kafka producer thread exited (code ${code})`);
        this.fail(err);
        reject(err);
      });
    });
  }

  send(batches: readonly PartitionBatch[]): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    if (!this.worker) return Promise.reject(new Error('the Kafka producer thread is not started'));
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker!.postMessage({ type: 'send', id, batches } satisfies ToWorker, movable(batches));
    });
  }

  /** Lets sends in flight finish, disconnects the producer and ends the thread. */
  close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return Promise.resolve();
    this.closed ??= new Promise<void>((resolve) => {
      if (this.dead) return resolve();
      worker.once('exit', () => resolve());
      worker.postMessage({ type: 'close' } satisfies ToWorker);
    });
    return this.closed;
  }

  private settle(id: number) {
    const p = this.pending.get(id);
    this.pending.delete(id);
    return p;
  }

  private fail(err: Error): void {
    this.dead ??= err;
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
  }
}

/**
 * The batches' memory that can move to the worker without a copy: a buffer that is all of its
 * ArrayBuffer (record-batch.ts allocates them so). A slice of a shared pool must be copied:
 * moving it would take the rest of the pool from this thread.
 */
function movable(batches: readonly PartitionBatch[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const b of batches) {
    const whole = b.records.byteOffset === 0 && b.records.byteLength === b.records.buffer.byteLength;
    if (whole && b.records.buffer instanceof ArrayBuffer) out.add(b.records.buffer);
  }
  return [...out];
}

function asError(e: WireError): Error {
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}
