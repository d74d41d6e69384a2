import { parentPort } from 'node:worker_threads';
import type { ToMain, ToWorker } from '../threaded-producer';

/**
 * Stands in for producer-worker.ts in threaded-producer.test.ts: acknowledges sends whose first
 * batch's topic is "ok", reports Kafka's failure for "fail", fails with the batch's bytes as text
 * for "echo" (what arrived in this thread), and dies mid-send for anything else.
 */
const port = parentPort!;
const post = (m: ToMain): void => port.postMessage(m);
port.on('message', (m: ToWorker) => {
  if (m.type === 'close') {
    post({ type: 'closed' });
    port.close();
    return;
  }
  const key = m.batches[0]?.topic;
  if (key === 'echo') post({ type: 'failed', id: m.id, error: { name: 'Echo', message: Buffer.from(m.batches[0]!.records).toString() } });
  else if (key === 'ok') setTimeout(() => post({ type: 'done', id: m.id }), 20);
  else if (key === 'fail') post({ type: 'failed', id: m.id, error: { name: 'KafkaJSNumberOfRetriesExceeded', message: 'Connection error: connect ECONNREFUSED' } });
  else process.exit(3);
});
post({ type: 'ready' });
