import { parentPort, workerData } from 'node:worker_threads';
import { createKafka } from '../../core/kafka';
import type { Logger } from '../../core/logger';
import type { ToMain, ToWorker, WorkerSetup } from './threaded-producer';
import { kafkajsLayout, WireProducer } from './wire/wire-producer';

/**
 * The Kafka producer's thread (threaded-producer.ts): record encoding, CRCs and socket I/O
 * (wire/wire-producer.ts) run here, beside the main thread's decoding. Sends are handled one at a time, in order.
 */
const port = parentPort!;
const setup = workerData as WorkerSetup;
const post = (m: ToMain): void => port.postMessage(m);

function forwardingLogger(ns: string): Logger {
  const at = (level: 'debug' | 'info' | 'warn' | 'error') => (msg: string, ctx?: Record<string, unknown>) => post({ type: 'log', level, msg, ctx: plain(ctx) });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (child) => forwardingLogger(`${ns}:${child}`) };
}

/** Log contexts cross threads by structured clone: errors and other class instances become plain. */
function plain(ctx: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!ctx) return undefined;
  try {
    return JSON.parse(JSON.stringify(ctx, (_k, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message } : typeof v === 'bigint' ? v.toString() : v))) as Record<string, unknown>;
  } catch {
    return { unserializable: true };
  }
}

const producer = new WireProducer(kafkajsLayout(createKafka(setup.brokers, setup.clientId, forwardingLogger('kafka'))), { clientId: setup.clientId });
let queue: Promise<void> = Promise.resolve();

port.on('message', (m: ToWorker) => {
  if (m.type === 'send') {
    queue = queue.then(async () => {
      try {
        await producer.send(m.batches);
        post({ type: 'done', id: m.id });
      } catch (err) {
        post({ type: 'failed', id: m.id, error: { name: (err as Error).name, message: (err as Error).message } });
      }
    });
  } else if (m.type === 'close') {
    queue = queue.then(async () => {
      await producer.close().catch(() => undefined);
      post({ type: 'closed' });
      port.close();
    });
  }
});

producer.connect().then(
  () => post({ type: 'ready' }),
  (err: unknown) => post({ type: 'connect-failed', error: { name: (err as Error).name, message: (err as Error).message } }),
);
