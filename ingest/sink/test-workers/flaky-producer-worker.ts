import { parentPort } from 'node:worker_threads';
import type { ToMain, ToWorker } from '../threaded-producer';

/**
 * Stands in for producer-worker.ts in threaded-producer.test.ts: acknowledges sends whose first
 * message's key is "ok", reports Kafka's failure for "fail", and dies mid-send for "die".
 */
const port = parentPort!;
const post = (m: ToMain): void => port.postMessage(m);
port.on('message', (m: ToWorker) => {
  if (m.type === 'close') {
    post({ type: 'closed' });
    port.close();
    return;
  }
  const key = m.batches[0]?.messages[0]?.key;
  if (key === 'ok') setTimeout(() => post({ type: 'done', id: m.id }), 20);
  else if (key === 'fail') post({ type: 'failed', id: m.id, error: { name: 'KafkaJSNumberOfRetriesExceeded', message: 'Connection error: connect ECONNREFUSED' } });
  else process.exit(3);
});
post({ type: 'ready' });
