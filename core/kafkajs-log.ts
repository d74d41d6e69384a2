import { logLevel } from 'kafkajs';
import type { LogLevel } from './logger';

/** One kafkajs log entry, as its logCreator receives it. */
export interface KafkaLogEntry {
  namespace: string;
  level: logLevel;
  message: string;
  /** The broker's error message, on a `Response <Api>(…)` line of the connection. */
  error?: unknown;
}

interface Harmless {
  /** The request the broker answered (kafkajs's `Response <Api>(key: …, version: …)` line). */
  api: string;
  /** The answer's message as kafkajs logs it. */
  error: string;
  level: LogLevel;
  why: string;
}

/**
 * kafkajs logs every error answer of the broker at ERROR on the connection *and* hands the same
 * error to its caller, which retries or fails. These answers come with every normal first start;
 * logged at error, they teach an operator to ignore errors. A real failure behind them still ends
 * at error: the caller's own line (a failed start, the consumer's crash) names it.
 */
export const HARMLESS_KAFKA_ERRORS: readonly Harmless[] = [
  {
    api: 'CreateTopics',
    error: 'Topic creation errors',
    level: 'info',
    why: 'ingest and the indexer create the same topics at start, and the loser gets TOPIC_ALREADY_EXISTS. ensureTopics (core/kafka.ts), the only caller, receives the same error, carries on past the transient ones and throws any other, so start fails with the cause',
  },
  {
    api: 'Metadata',
    error: 'This server does not host this topic-partition',
    level: 'info',
    why: 'UNKNOWN_TOPIC_OR_PARTITION for a topic created a moment ago: the broker asked has not learnt of it yet (KRaft brokers hear of new topics from the controller). ensureTopics (core/kafka.ts) and the start steps (core/kafka-unavailable.ts untilKafkaAvailable) ask again; a topic still unknown after a minute fails the start with the cause at error',
  },
  {
    api: 'GroupCoordinator',
    error: 'The group coordinator is not available',
    level: 'info',
    why: "GROUP_COORDINATOR_NOT_AVAILABLE, retriable: a group's first use on a new broker, while __consumer_offsets is being created. kafkajs retries the lookup; if it never succeeds, the consumer's crash is logged at error (and the indexer waits for Kafka)",
  },
];

/** Level of a kafkajs entry in our log: the table above, else error for ERROR and warn for the rest. */
export function kafkaLogLevel(entry: KafkaLogEntry): LogLevel {
  if (entry.level > logLevel.ERROR) return entry.level === logLevel.WARN ? 'warn' : entry.level === logLevel.INFO ? 'info' : 'debug';
  const known = HARMLESS_KAFKA_ERRORS.find((h) => entry.error === h.error && entry.message.startsWith(`Response ${h.api}(`));
  return known?.level ?? 'error';
}
