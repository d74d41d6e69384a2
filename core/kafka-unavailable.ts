import { errorMessage } from './errors';
import type { Logger } from './logger';
import { backoffDelayMs, sleep, type BackoffOptions } from './retry';

/**
 * Whether a failed produce means "Kafka cannot be reached or cannot take writes right now" (the
 * broker is down, restarting, electing leaders, short of in-sync replicas): then the batch is
 * worth sending again once it is back, instead of stopping ingest. Anything else (a batch the
 * broker refuses for good, a contract violation, an authorisation error) is not.
 *
 * Decided by error names (kafkajs's and ingest/sink/wire's) and kafkajs's messages along the
 * cause chain, not kafkajs's `retriable` flag, so a wrapper that kept only a name and a message
 * is judged the same. The indexer asks the same of a consumer crash kafkajs will not restart by
 * itself (it gives up on "no broker answered the coordinator lookup").
 */
const UNAVAILABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
  'KafkaJSTimeout',
  'KafkaJSLockTimeout',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSNoBrokerAvailableError',
  // ingest's own produce path (ingest/sink/wire): a broker unreachable, or an answer meaning "not now"
  'KafkaBrokerUnavailable',
]);

// kafkajs's texts for ECONNREFUSED & co, LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER,
// NOT_ENOUGH_REPLICAS(_AFTER_APPEND), REQUEST_TIMED_OUT, when a wrapper carries only the message.
const UNAVAILABLE_MESSAGE = /connection error|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|closed connection|no leader for this topic-partition|not the leader for that topic-partition|fewer in-sync replicas|the request timed out|broker not found|failed to connect/i;

export function isKafkaUnavailable(err: unknown): boolean {
  let cur: unknown = err;
  for (let depth = 0; cur instanceof Error && depth < 8; depth++) {
    if (UNAVAILABLE_NAMES.has(cur.name)) return true;
    if (cur.name.startsWith('KafkaJS') && UNAVAILABLE_MESSAGE.test(cur.message)) return true;
    cur = cur.cause;
  }
  return false;
}

/**
 * Broker answers that only mean "the topic is being created right now" — by us or by another
 * service racing us (ingest and indexer both ensure the same topics at start). kafkajs' own
 * waitForLeaders retries LEADER_NOT_AVAILABLE but not UNKNOWN_TOPIC_OR_PARTITION, which KRaft
 * brokers answer for a moment after creation.
 */
const TRANSIENT_TOPIC_ERRORS = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'TOPIC_ALREADY_EXISTS', 'NOT_CONTROLLER']);

export function isTransientTopicError(err: unknown): boolean {
  const type = (err as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && TRANSIENT_TOPIC_ERRORS.has(type)) return true;
  const nested = (err as { errors?: unknown } | null)?.errors;
  return Array.isArray(nested) && nested.length > 0 && nested.every(isTransientTopicError);
}

export interface KafkaWaitOptions {
  /** What waits, for the log line: "ingest's start". */
  what: string;
  log: Pick<Logger, 'warn'>;
  /** Stops waiting (close() during start): the last error is thrown. */
  signal?: AbortSignal;
  /** How long "the topic is not served yet" is waited out (default 60 s); then the step's error is thrown. */
  topicWaitMs?: number;
  /** Default 1 s doubling to 30 s, with jitter. */
  backoff?: BackoffOptions;
}

/** How long a start waits for a topic the brokers do not serve: created a moment ago, they learn of it within seconds. */
const TOPIC_NOT_READY_MS = 60_000;

/**
 * Runs `step` again, with backoff, for as long as it fails because Kafka is unavailable. A service
 * started before its broker (or while the broker restarts) then waits for it, as it rides out an
 * outage once running, instead of exiting with "failed to start". `step` must be safe to run again
 * from the top. A topic the brokers do not serve yet (just created) is waited out too, for at most
 * `topicWaitMs`. Any other error, or an aborted `signal`, ends the wait with that error.
 */
export async function untilKafkaAvailable<T>(step: () => Promise<T>, opts: KafkaWaitOptions): Promise<T> {
  let topicWaitSince: number | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      // A topic answer of "not yet" too: a start step right after ensureTopics can ask a broker
      // that has not learnt of the topics just created (KRaft brokers hear of them from the
      // controller one at a time); ingest failed to start so on a loaded 3-broker cluster.
      const unavailable = isKafkaUnavailable(err);
      const topicNotReady = !unavailable && isTransientTopicError(err);
      if (topicNotReady) topicWaitSince ??= Date.now();
      const waitable = unavailable || (topicNotReady && Date.now() - topicWaitSince! <= (opts.topicWaitMs ?? TOPIC_NOT_READY_MS));
      if (!waitable || opts.signal?.aborted) throw err;
      const retryInMs = backoffDelayMs(attempt, opts.backoff ?? { initialMs: 1_000, maxMs: 30_000 });
      opts.log.warn(`Kafka ${topicNotReady ? 'does not serve the topics yet' : 'unavailable'}: ${opts.what} waits for it`, { attempt, retryInMs, err: errorMessage(err) });
      await sleep(retryInMs, opts.signal);
      if (opts.signal?.aborted) throw err;
    }
  }
}
