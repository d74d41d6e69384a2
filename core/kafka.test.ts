import { silentLogger } from './logger';
import { warnPartitionMismatch } from './kafka';
import { isTransientTopicError } from './kafka-unavailable';

describe('isTransientTopicError', () => {
  it('treats "topic is being created" broker answers as transient', () => {
    expect(isTransientTopicError({ type: 'UNKNOWN_TOPIC_OR_PARTITION' })).toBe(true);
    expect(isTransientTopicError({ type: 'LEADER_NOT_AVAILABLE' })).toBe(true);
    expect(isTransientTopicError({ type: 'TOPIC_ALREADY_EXISTS' })).toBe(true);
  });

  it('looks inside kafkajs aggregate errors, transient only if every inner error is', () => {
    expect(isTransientTopicError({ errors: [{ type: 'TOPIC_ALREADY_EXISTS' }] })).toBe(true);
    expect(isTransientTopicError({ errors: [{ type: 'TOPIC_ALREADY_EXISTS' }, { type: 'INVALID_REPLICATION_FACTOR' }] })).toBe(false);
    expect(isTransientTopicError({ errors: [] })).toBe(false);
  });

  it('does not retry configuration or authorization errors', () => {
    expect(isTransientTopicError({ type: 'INVALID_PARTITIONS' })).toBe(false);
    expect(isTransientTopicError({ type: 'TOPIC_AUTHORIZATION_FAILED' })).toBe(false);
    expect(isTransientTopicError(new Error('boom'))).toBe(false);
    expect(isTransientTopicError(null)).toBe(false);
  });
});

describe('warnPartitionMismatch', () => {
  it('warns once per existing topic whose partition count differs from TOPIC_PARTITIONS, naming both', () => {
    const warned: string[] = [];
    const log = { ...silentLogger, warn: (msg: string) => void warned.push(msg) };
    warnPartitionMismatch(new Map([['t.public.a', 3], ['t.public.b', 1]]), 3, log);
    expect(warned).toEqual(['topic t.public.b has 1 partitions and keeps them; TOPIC_PARTITIONS=3 applies only to topics created from now on']);
  });
});
