import net from 'node:net';
import { ConfigResourceTypes } from 'kafkajs';
import { ensureTopics } from '../../../core/kafka';
import { kafkajsCluster } from '../../../core/kafkajs-cluster';
import { isKafkaUnavailable } from '../../../core/kafka-unavailable';
import { kafka, readTopic, uniqueName } from '../../../e2e/support/services';
import type { ProducedMessage } from '../../../core/kafka-producer';
import { encodeSend } from './wire-message-producer';
import { encodeRecordBatch } from './record-batch';
import { clusterLayout, WireProducer } from './wire-producer';
import { kafkajsClient } from '../../../core/kafkajs-client';

const layout = () => clusterLayout(() => kafkajsCluster(kafka()));

const one = (topic: string, partition: number, key: string, value: string) => [{ topic, partition, records: encodeRecordBatch([{ key, value }]) }];
const outcome = (p: Promise<void>) => p.then(() => 'acked', (e: Error) => `${e.name}: ${e.message}`);

/** Real Kafka: ingest's own produce path, read back with kafkajs's consumer. */
describe('WireProducer against Kafka', () => {
  it('writes every partition\'s batch whole and in order, readable by a standard consumer', async () => {
    const [a, b] = [uniqueName('wire_a'), uniqueName('wire_b')];
    await ensureTopics(kafkajsClient(kafka()), [a, b], 3);
    const producer = new WireProducer(layout(), { clientId: 'wire-test' });
    await producer.connect();
    try {
      const rows: ProducedMessage[] = Array.from({ length: 3000 }, (_, i) => ({ topic: a, key: `{"id":${i}}`, value: JSON.stringify({ i, body: 'é'.repeat(i % 700) }), partition: i % 3 }));
      await producer.send(encodeSend([...rows.slice(0, 1500), { topic: b, key: '', value: 'h', partition: 2 }]));
      await producer.send(encodeSend([...rows.slice(1500), { topic: b, key: 'k', value: 'second', partition: 0 }]));

      const readA = await readTopic(kafka(), a, rows.length);
      for (let p = 0; p < 3; p++) {
        const got = readA.filter((m) => m.partition === p).sort((x, y) => Number(x.offset) - Number(y.offset));
        expect(got.map((m) => [m.key, m.value])).toEqual(rows.filter((r) => r.partition === p).map((r) => [r.key, r.value]));
      }
      const readB = await readTopic(kafka(), b, 2);
      expect(readB.map((m) => [m.key, m.value, m.partition]).sort()).toEqual([['', 'h', 2], ['k', 'second', 0]]);
      // Two batches for one partition in one send would leave their order to the broker: refused before anything is sent.
      await expect(producer.send([...one(a, 0, 'x', '1'), ...one(a, 0, 'x', '2')])).rejects.toThrow(/two batches for .*\[0\]/);
    } finally {
      await producer.close();
    }
  });

  it('refuses for good a batch above the topic\'s max.message.bytes, and sends the next one', async () => {
    const topic = uniqueName('wire_small');
    await ensureTopics(kafkajsClient(kafka()), [topic], 1);
    const admin = kafka().admin();
    await admin.connect();
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'max.message.bytes', value: '2000' }] }] });
    await admin.disconnect();
    const producer = new WireProducer(layout(), { clientId: 'wire-test' });
    await producer.connect();
    try {
      const tooLarge = producer.send(one(topic, 0, 'k', 'x'.repeat(5000)));
      await expect(tooLarge).rejects.toMatchObject({ name: 'KafkaProduceRefused', message: expect.stringMatching(/MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE/) });
      await tooLarge.catch((e: unknown) => expect(isKafkaUnavailable(e)).toBe(false));
      expect(await outcome(producer.send(one(topic, 0, 'k', 'fits')))).toBe('acked');
      expect((await readTopic(kafka(), topic, 1)).map((m) => m.value)).toEqual(['fits']);
    } finally {
      await producer.close();
    }
  });

  it('fails a send with KafkaBrokerUnavailable (worth sending again) when the leader cannot be reached; a topic unknown to the broker fails with its answer', async () => {
    // A listening port that drops every connection: a broker that went away mid-request.
    const dropper = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => dropper.listen(0, '127.0.0.1', r));
    const port = (dropper.address() as net.AddressInfo).port;
    const gone = new WireProducer(async () => ({ brokers: new Map([[1, { host: '127.0.0.1', port }]]), leaders: new Map([['t', [1]]]) }), { clientId: 'wire-test' });
    const refused = new WireProducer(async () => ({ brokers: new Map([[1, { host: '127.0.0.1', port: 1 }]]), leaders: new Map([['t', [1]]]) }), { clientId: 'wire-test' });
    const noLeader = new WireProducer(async () => ({ brokers: new Map(), leaders: new Map([['t', [-1]]]) }), { clientId: 'wire-test' });
    try {
      for (const p of [gone, refused, noLeader]) {
        const err = await p.send(one('t', 0, 'k', 'v')).then(() => undefined, (e: unknown) => e);
        expect(err).toMatchObject({ name: 'KafkaBrokerUnavailable' });
        expect(isKafkaUnavailable(err)).toBe(true);
      }
      const real = new WireProducer(layout(), { clientId: 'wire-test' });
      const missing = await real.send(one(uniqueName('wire_missing'), 0, 'k', 'v')).then(() => undefined, (e: unknown) => e);
      expect(missing).toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' }); // the metadata lookup's answer, as kafkajs's producer gave it
      await real.close();
    } finally {
      await Promise.all([gone.close(), refused.close(), noLeader.close()]);
      dropper.close();
    }
  });
});
