import path from 'node:path';
import { silentLogger } from '../../core/logger';
import { ThreadedProducer } from './threaded-producer';

const batch = (key: string) => [{ topic: 't', messages: [{ key, value: '{}', partition: 0 }] }];
const outcome = (p: Promise<void>) => p.then(() => 'acked', (e: Error) => `${e.name}: ${e.message}`);

describe('Kafka producer in a worker thread', () => {
  const start = async () => {
    const producer = new ThreadedProducer({ brokers: ['127.0.0.1:1'], clientId: 'test' }, silentLogger, path.join(__dirname, 'test-workers', 'flaky-producer-worker.ts'));
    await producer.connect();
    return producer;
  };

  it('resolves a send only on the thread\'s acknowledgement, and passes Kafka\'s failure on with its name', async () => {
    const producer = await start();
    expect(await Promise.all([outcome(producer.send(batch('ok'))), outcome(producer.send(batch('fail')))])).toEqual(['acked', 'KafkaJSNumberOfRetriesExceeded: Connection error: connect ECONNREFUSED']);
    await producer.close();
  });

  it('fails every send in flight, and every later one, when the thread dies: nothing is taken for acknowledged', async () => {
    const producer = await start();
    const inFlight = [producer.send(batch('ok')), producer.send(batch('die'))].map(outcome);
    expect(await Promise.all(inFlight)).toEqual(['Error: the Kafka producer thread exited (code 3)', 'Error: the Kafka producer thread exited (code 3)']);
    expect(await outcome(producer.send(batch('ok')))).toBe('Error: the Kafka producer thread exited (code 3)');
    await producer.close();
  });
});
