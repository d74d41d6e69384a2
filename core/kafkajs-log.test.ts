import { logLevel } from 'kafkajs';
import { createKafkajs } from './kafkajs-client';
import { HARMLESS_KAFKA_ERRORS, kafkaLogLevel } from './kafkajs-log';
import { createLogger } from './logger';

// Entries as kafkajs 2.2.4's connection logs them (network/connection.js, `Response ${requestInfo}`).
const topicExists = { namespace: 'Connection', level: logLevel.ERROR, message: 'Response CreateTopics(key: 19, version: 3)', error: 'Topic creation errors' };
const noCoordinator = { namespace: 'Connection', level: logLevel.ERROR, message: 'Response GroupCoordinator(key: 10, version: 2)', error: 'The group coordinator is not available' };

describe('kafkaLogLevel', () => {
  it('puts the known-harmless start-up answers at info', () => {
    expect(kafkaLogLevel(topicExists)).toBe('info');
    expect(kafkaLogLevel(noCoordinator)).toBe('info');
  });

  it('keeps every other error at error, also the same text from another request or another error from the same request', () => {
    expect(kafkaLogLevel({ ...topicExists, error: 'Broker: Not authorized to access topics' })).toBe('error');
    expect(kafkaLogLevel({ ...noCoordinator, message: 'Response Produce(key: 0, version: 7)' })).toBe('error');
    expect(kafkaLogLevel({ namespace: 'Consumer', level: logLevel.ERROR, message: 'Crash: KafkaJSGroupCoordinatorNotFound: Failed to find group coordinator' })).toBe('error');
    expect(kafkaLogLevel({ namespace: 'BrokerPool', level: logLevel.ERROR, message: 'Failed to connect to seed broker, trying another broker from the list' })).toBe('error');
  });

  it('keeps warnings warnings', () => {
    expect(kafkaLogLevel({ namespace: 'Runner', level: logLevel.WARN, message: 'something' })).toBe('warn');
  });

  it('gives each harmless entry its reason', () => {
    for (const h of HARMLESS_KAFKA_ERRORS) expect(h.why.length).toBeGreaterThan(40);
  });
});

describe('createKafkajs logs', () => {
  it('writes the harmless answers at info and real errors at error, through the service logger', () => {
    const lines: Array<{ level: string; msg: string; kafkajs: string }> = [];
    const kafka = createKafkajs(['127.0.0.1:9'], 'test', createLogger('svc', 'debug', (l) => lines.push(JSON.parse(l) as (typeof lines)[number])));
    const conn = kafka.logger().namespace('Connection');
    conn.error(topicExists.message, { error: topicExists.error });
    conn.error(noCoordinator.message, { error: noCoordinator.error });
    conn.error('Response Produce(key: 0, version: 7)', { error: 'The server experienced an unexpected error' });
    expect(lines.map((l) => [l.level, l.msg, l.kafkajs])).toEqual([
      ['info', topicExists.message, 'Connection'],
      ['info', noCoordinator.message, 'Connection'],
      ['error', 'Response Produce(key: 0, version: 7)', 'Connection'],
    ]);
  });
});
