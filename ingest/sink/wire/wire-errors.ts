import { ConfigError } from '../../../core/errors';

/**
 * Errors of ingest's own Kafka produce path, told apart by name in core/kafka-unavailable.ts:
 * KafkaBrokerUnavailable is worth sending again once the broker is back, KafkaProduceRefused and
 * KafkaSecurityRejected are not.
 */
export class KafkaBrokerUnavailable extends Error {
  override name = 'KafkaBrokerUnavailable';
}

export class KafkaProduceRefused extends Error {
  override name = 'KafkaProduceRefused';
}

/**
 * Broker error codes, names and whether the protocol calls them retriable, as
 * https://kafka.apache.org/protocol#protocol_error_codes lists them: every code a Produce answer
 * can carry, and every code the protocol marks retriable, so a "not now" answer (leadership moving,
 * broker starting, replicas behind, topic being created) never stops ingest. wire-errors.test.ts
 * checks each entry against the lists kafkajs and @platformatic/kafka ship, so it cannot drift.
 * A code missing here is refused for good, with its number.
 */
export const ERROR_CODES: ReadonlyMap<number, { name: string; retriable: boolean }> = new Map(([
  [-1, 'UNKNOWN_SERVER_ERROR', false],
  [2, 'CORRUPT_MESSAGE', true],
  [3, 'UNKNOWN_TOPIC_OR_PARTITION', true],
  [5, 'LEADER_NOT_AVAILABLE', true],
  [6, 'NOT_LEADER_OR_FOLLOWER', true],
  [7, 'REQUEST_TIMED_OUT', true],
  [8, 'BROKER_NOT_AVAILABLE', false],
  [9, 'REPLICA_NOT_AVAILABLE', true],
  [10, 'MESSAGE_TOO_LARGE', false],
  [13, 'NETWORK_EXCEPTION', true],
  [14, 'COORDINATOR_LOAD_IN_PROGRESS', true],
  [15, 'COORDINATOR_NOT_AVAILABLE', true],
  [16, 'NOT_COORDINATOR', true],
  [17, 'INVALID_TOPIC_EXCEPTION', false],
  [18, 'RECORD_LIST_TOO_LARGE', false],
  [19, 'NOT_ENOUGH_REPLICAS', true],
  [20, 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', true],
  [21, 'INVALID_REQUIRED_ACKS', false],
  [29, 'TOPIC_AUTHORIZATION_FAILED', false],
  [31, 'CLUSTER_AUTHORIZATION_FAILED', false],
  [32, 'INVALID_TIMESTAMP', false],
  [35, 'UNSUPPORTED_VERSION', false],
  [41, 'NOT_CONTROLLER', true],
  [42, 'INVALID_REQUEST', false],
  [43, 'UNSUPPORTED_FOR_MESSAGE_FORMAT', false],
  [44, 'POLICY_VIOLATION', false],
  [45, 'OUT_OF_ORDER_SEQUENCE_NUMBER', false],
  [46, 'DUPLICATE_SEQUENCE_NUMBER', false],
  [47, 'INVALID_PRODUCER_EPOCH', false],
  [51, 'CONCURRENT_TRANSACTIONS', true],
  [53, 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', false],
  [56, 'KAFKA_STORAGE_ERROR', true],
  [59, 'UNKNOWN_PRODUCER_ID', false],
  [70, 'FETCH_SESSION_ID_NOT_FOUND', true],
  [71, 'INVALID_FETCH_SESSION_EPOCH', true],
  [72, 'LISTENER_NOT_FOUND', true],
  [74, 'FENCED_LEADER_EPOCH', true],
  [75, 'UNKNOWN_LEADER_EPOCH', true],
  [76, 'UNSUPPORTED_COMPRESSION_TYPE', false],
  [78, 'OFFSET_NOT_AVAILABLE', true],
  [80, 'PREFERRED_LEADER_NOT_AVAILABLE', true],
  [83, 'ELIGIBLE_LEADERS_NOT_AVAILABLE', true],
  [84, 'ELECTION_NOT_NEEDED', true],
  [87, 'INVALID_RECORD', false],
  [88, 'UNSTABLE_OFFSET_COMMIT', true],
  [89, 'THROTTLING_QUOTA_EXCEEDED', true],
  [100, 'UNKNOWN_TOPIC_ID', true],
  [103, 'INCONSISTENT_TOPIC_ID', true],
  [106, 'FETCH_SESSION_TOPIC_ID_ERROR', true],
  [122, 'SHARE_SESSION_NOT_FOUND', true],
  [123, 'INVALID_SHARE_SESSION_EPOCH', true],
] as const).map(([code, name, retriable]) => [code, { name, retriable }]));

/**
 * Codes the protocol calls retriable that this producer does not send again. CORRUPT_MESSAGE is
 * retriable for bytes damaged on the way; ours are encoded again from the same events into the
 * same bytes (wire/record-batch.ts), so a batch the broker finds corrupt would be refused on
 * every retry while ingest waited for ever as if Kafka were down.
 */
export const NOT_SENT_AGAIN: ReadonlySet<number> = new Set([2]);

export function produceError(errorCode: number, topic: string, partition: number): Error {
  const known = ERROR_CODES.get(errorCode);
  if (known?.retriable && !NOT_SENT_AGAIN.has(errorCode)) return new KafkaBrokerUnavailable(`Kafka refused ${topic}[${partition}] for now: ${known.name} (error code ${errorCode})`);
  return new KafkaProduceRefused(`Kafka refused ${topic}[${partition}]: ${known?.name ?? 'unknown error'} (error code ${errorCode}); the batch cannot be written as it is`);
}

/**
 * The broker or this client refused the other's credentials: a wrong SASL user or password, a
 * mechanism the listener does not take, a certificate that does not verify. Sending again cannot
 * help, so ingest stops with the message (which names the variable to fix) instead of waiting.
 */
export class KafkaSecurityRejected extends ConfigError {}
