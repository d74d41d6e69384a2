import { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { PipelineError } from './errors';
import { isKafkaUnavailable, untilKafkaAvailable } from './kafka-unavailable';

/** An error passed on with its name and message only. */
const crossed = (e: Error): Error => Object.assign(new Error(e.message), { name: e.name });
const wrapped = (cause: unknown) => new PipelineError('Kafka did not acknowledge the batch', { code: 'KAFKA_PRODUCE_FAILED', retriable: true, cause });

describe('isKafkaUnavailable', () => {
  it('waits out a broker that cannot be reached or has no leader yet', () => {
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    expect(isKafkaUnavailable(wrapped(refused))).toBe(true);
    expect(isKafkaUnavailable(wrapped(crossed(new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 8, retryTime: 10_000 }))))).toBe(true);
    expect(isKafkaUnavailable(wrapped(crossed(new KafkaJSNonRetriableError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'))))).toBe(true);
    expect(isKafkaUnavailable(wrapped(crossed(new KafkaJSProtocolError('There is no leader for this topic-partition as we are in the middle of a leadership election'))))).toBe(true);
  });

  it('counts the consumer crash kafkajs will not restart by itself when no broker answers (the indexer joins again)', () => {
    const lookup = Object.assign(new Error('Failed to find group coordinator'), { name: 'KafkaJSGroupCoordinatorNotFound' });
    expect(isKafkaUnavailable(lookup)).toBe(true);
  });

  it('does not wait out an unknown failure, a refused batch, an authorisation error or a contract violation', () => {
    expect(isKafkaUnavailable(wrapped(new Error('something else broke')))).toBe(false);
    expect(isKafkaUnavailable(wrapped(Object.assign(new Error('MESSAGE_TOO_LARGE'), { name: 'KafkaProduceRefused' })))).toBe(false);
    expect(isKafkaUnavailable(wrapped(crossed(new KafkaJSProtocolError('Not authorized to access topics: [Topic authorization failed]'))))).toBe(false);
    expect(isKafkaUnavailable(new PipelineError('event breaks the contract', { code: 'EVENT_INVALID' }))).toBe(false);
  });
});

describe('untilKafkaAvailable', () => {
  const refused = () => new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
  const fast = { initialMs: 1, maxMs: 2 };
  const logged = () => {
    const lines: string[] = [];
    return { lines, log: { warn: (msg: string) => void lines.push(msg) } };
  };

  it('runs the step again while Kafka cannot be reached, then returns its result', async () => {
    const { lines, log } = logged();
    let calls = 0;
    const result = await untilKafkaAvailable(async () => {
      if (++calls < 4) throw refused();
      return 'started';
    }, { what: "the indexer's start", log, backoff: fast });
    expect(result).toBe('started');
    expect(calls).toBe(4);
    expect(lines).toEqual(Array(3).fill("Kafka unavailable: the indexer's start waits for it"));
  });

  it('waits out a broker that does not serve a topic created a moment ago', async () => {
    const { lines, log } = logged();
    let calls = 0;
    const notYet = Object.assign(new Error('This server does not host this topic-partition'), { name: 'KafkaJSProtocolError', type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    const result = await untilKafkaAvailable(async () => {
      if (++calls < 3) throw notYet;
      return 'started';
    }, { what: "ingest's start", log, backoff: fast });
    expect([result, calls]).toEqual(['started', 3]);
    expect(lines).toEqual(Array(2).fill("Kafka does not serve the topics yet: ingest's start waits for it"));
  });

  it('gives up on a topic the brokers still do not serve after its bound, with that error', async () => {
    const { log } = logged();
    let calls = 0;
    const gone = Object.assign(new Error('This server does not host this topic-partition'), { name: 'KafkaJSProtocolError', type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await expect(untilKafkaAvailable(async () => {
      calls++;
      throw gone;
    }, { what: 'start', log, backoff: fast, topicWaitMs: 30 })).rejects.toBe(gone);
    expect(calls).toBeGreaterThan(1);
  });

  it('does not wait out any other failure', async () => {
    const { lines, log } = logged();
    let calls = 0;
    const broken = new PipelineError('pipeline config names no topic', { code: 'CONFIG_INVALID' });
    await expect(untilKafkaAvailable(async () => {
      calls++;
      throw broken;
    }, { what: 'start', log, backoff: fast })).rejects.toBe(broken);
    expect(calls).toBe(1);
    expect(lines).toEqual([]);
  });

  it('stops waiting with the last error once its signal aborts (close during start)', async () => {
    const { log } = logged();
    const stop = new AbortController();
    let calls = 0;
    const waiting = untilKafkaAvailable(async () => {
      calls++;
      throw refused();
    }, { what: 'start', log, signal: stop.signal, backoff: { initialMs: 60_000, maxMs: 60_000 } });
    await new Promise((r) => setTimeout(r, 20));
    stop.abort();
    await expect(waiting).rejects.toThrow(/ECONNREFUSED/);
    expect(calls).toBe(1);
  });
});
