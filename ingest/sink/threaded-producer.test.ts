import path from 'node:path';
import { silentLogger } from '../../core/logger';
import { ThreadedProducer } from './threaded-producer';

const batch = (topic: string, records: Uint8Array = Buffer.allocUnsafeSlow(1)) => [{ topic, partition: 0, records }];
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

  it('moves a batch that owns its memory to the thread, and copies a slice of a shared pool', async () => {
    const producer = await start();
    const own = Buffer.allocUnsafeSlow(5);
    own.write('moved');
    expect(await outcome(producer.send(batch('echo', own)))).toBe('Echo: moved');
    expect(own.byteLength).toBe(0); // detached here: no copy was made
    const pooled = Buffer.from('copied'); // a slice of Node's shared 8 KB pool
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.length);
    expect(await outcome(producer.send(batch('echo', pooled)))).toBe('Echo: copied');
    expect(pooled.toString()).toBe('copied'); // still usable: the pool was not taken from this thread
    await producer.close();
  });
});
