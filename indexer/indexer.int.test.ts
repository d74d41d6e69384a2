import { Partitioners, type Producer } from 'kafkajs';
import { loadIndexerConfig } from '../config';
import { parsePipelineConfig } from '../config/pipeline';
import { canonicalKey, type ChangeEvent } from '../core/change-event';
import { createKafka, ensureTopics } from '../core/kafka';
import { silentLogger } from '../core/logger';
import { es, eventually, kafka, readTopic, uniqueName } from '../e2e/support/services';
import { createIndexer } from './indexer-service';
import { createIndexerMetrics } from './metrics';
import { kafkajsClient } from '../core/kafkajs-client';

/** Real Kafka and real Elasticsearch. */
describe('indexer against Kafka and Elasticsearch', () => {
  const prefix = uniqueName('t');
  const index = uniqueName('docs');
  const table = 'items';
  const topic = `${prefix}.public.${table}`;
  const client = es();
  let producer: Producer;
  let indexer: ReturnType<typeof createIndexer>;

  const event = (id: number, commitLsn: string, after?: Record<string, unknown>): ChangeEvent => ({
    v: 1, op: after ? 'u' : 'd', source: { schema: 'public', table }, key: { id }, ...(after ? { after } : {}), lsn: commitLsn, commitLsn, txId: 1, ts: new Date().toISOString(),
  });
  const send = (...events: ChangeEvent[]) => producer.send({ topic, acks: -1, messages: events.map((e) => ({ key: canonicalKey(e.key), value: JSON.stringify(e) })) });
  const version = async (id: string): Promise<string | undefined> => {
    // Raw text: JSON.parse would round a version above 2^53.
    const res = await client.transport.request({ method: 'GET', path: `/${index}/_doc/${id}` }, { asStream: true, ignore: [404] }) as unknown as NodeJS.ReadableStream;
    let text = '';
    for await (const chunk of res) text += chunk.toString();
    return /"_version":(\d+)/.exec(text)?.[1];
  };
  const source = async (id: string) => (await client.get<Record<string, unknown>>({ index, id }, { ignore: [404] }))._source;

  beforeAll(async () => {
    const k = kafka();
    await ensureTopics(kafkajsClient(k), [topic], 3);
    producer = k.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const config = loadIndexerConfig({ ...process.env, TOPIC_PREFIX: prefix, INDEXER_GROUP_ID: uniqueName('g'), INDEXER_MAX_RETRIES: '2' });
    const pipeline = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { [index]: { table, fields: { title: { type: 'text', searchable: true }, year: { type: 'integer' } } } } }));
    indexer = createIndexer({ config, pipeline, kafka: createKafka(config.kafkaBrokers, 'indexer-test', silentLogger), es: client, metrics: createIndexerMetrics(), log: silentLogger, onFatal: (e) => { throw e; } });
    await indexer.start();
  });

  afterAll(async () => {
    await indexer.close();
    await producer.disconnect();
    await client.indices.delete({ index: `${index}_v1` }, { ignore: [404] });
    await client.close();
  });

  it('writes the commit LSN as the exact version, above 2^53, and rejects a stale write', async () => {
    const big = '9007199254740993'; // 2^53 + 1: a JS number would print 9007199254740992
    await send(event(1, big, { title: 'new', year: 1990 }));
    await eventually(async () => (await version('1')) === big || undefined, 'version 2^53+1 on doc 1');
    await send(event(1, '9007199254740000', { title: 'stale', year: 1980 }), event(2, '10', { title: 'marker' }));
    await eventually(async () => (await source('2')) ?? undefined, 'marker doc 2');
    expect(await source('1')).toEqual({ title: 'new', year: 1990 });
  });

  it('applies the last of several changes sharing one version, and deletes', async () => {
    await send(event(3, '500', { title: 'first' }), event(3, '500', { title: 'second' }), event(4, '500', { title: 'gone soon' }));
    await eventually(async () => ((await source('3'))?.title === 'second' ? true : undefined), 'second value of doc 3');
    await send(event(4, '600'));
    await eventually(async () => ((await source('4')) === undefined ? true : undefined), 'doc 4 deleted');
  });

  it('parks a poison document in the dead-letter topic with its reason and keeps flowing', async () => {
    await send(event(5, '700', { title: 'poison', year: 'not a number' }), event(6, '700', { title: 'fine' }));
    await eventually(async () => (await source('6')) ?? undefined, 'doc 6 after the poison one');
    const [dead] = await readTopic(kafka(), `${prefix}.dead-letters`, 1);
    const record = JSON.parse(dead!.value);
    expect(record).toMatchObject({ index, id: '5', commitLsn: '700', topic, errorType: 'document_parsing_exception' });
    expect(record.reason).toMatch(/year/);
    expect(await source('5')).toBeUndefined();
  });
});
