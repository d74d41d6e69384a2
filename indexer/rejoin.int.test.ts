import { change, createHarness, indexerFor, type Harness } from '../e2e/support/indexer-harness';
import { eventually } from '../e2e/support/services';
import { kafkajsConsumerOf } from '../core/kafkajs-group-consumer';

type CrashListener = (event: { payload: { error: Error; restart: boolean } }) => void;

/**
 * When no broker answers the group-coordinator lookup for long enough, kafkajs stops the consumer
 * for good (a crash without restart); the indexer then joins the group again by itself. A real
 * outage reaches that point only sometimes (e2e/kafka-outage), so here kafkajs's own end of the
 * consumer (stop) is followed by the crash event it sends, against the real Kafka and
 * Elasticsearch: consuming must resume, or a crash that retrying cannot fix must stop the indexer.
 */
describe('the indexer after kafkajs gave its consumer up', () => {
  let h: Harness;
  let run: ReturnType<typeof indexerFor>;
  const crash: CrashListener[] = [];
  const count = async () => (await h.client.count({ index: h.index })).count;

  beforeAll(async () => {
    h = await createHarness(1);
    run = indexerFor(h);
    const consumer = kafkajsConsumerOf(run.indexer.group);
    const on = consumer.on.bind(consumer);
    consumer.on = ((event: string, listener: CrashListener) => {
      if (event === consumer.events.CRASH) crash.push(listener);
      return on(event as typeof consumer.events.CRASH, listener as never);
    }) as typeof consumer.on;
    await run.indexer.start();
    await h.send(change(1, 10, { title: 'before', year: 2000 }));
    await eventually(async () => ((await count()) === 1 ? true : undefined), 'the first document');
  });

  afterAll(async () => {
    await run.close();
    await h.close();
  });

  it('joins the group again when Kafka was unavailable, and consumes what came meanwhile', async () => {
    await kafkajsConsumerOf(run.indexer.group).stop();
    const lookup = Object.assign(new Error('Failed to find group coordinator'), { name: 'KafkaJSGroupCoordinatorNotFound' });
    for (const listener of crash) listener({ payload: { error: lookup, restart: false } });
    await h.send(change(2, 20, { title: 'after', year: 2001 }));
    await eventually(async () => ((await count()) === 2 ? true : undefined), 'the document sent after the crash', 60_000);
    expect(run.fatal).toEqual([]);
  });

  it('stops on a crash that retrying cannot fix', () => {
    const denied = Object.assign(new Error('Not authorized to access group'), { name: 'KafkaJSProtocolError' });
    for (const listener of crash) listener({ payload: { error: denied, restart: false } });
    expect(run.fatal).toEqual([denied]);
  });
});
