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
 * Broker error codes that mean "not now" (leadership moving, broker starting, replicas behind,
 * topic being created); https://kafka.apache.org/protocol#protocol_error_codes. Any other code
 * refuses the batch for good (too large, corrupt, not authorised, ...).
 */
const RETRIABLE: Record<number, string> = {
  3: 'UNKNOWN_TOPIC_OR_PARTITION',
  5: 'LEADER_NOT_AVAILABLE',
  6: 'NOT_LEADER_OR_FOLLOWER',
  7: 'REQUEST_TIMED_OUT',
  13: 'NETWORK_EXCEPTION',
  14: 'COORDINATOR_LOAD_IN_PROGRESS',
  15: 'COORDINATOR_NOT_AVAILABLE',
  19: 'NOT_ENOUGH_REPLICAS',
  20: 'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  56: 'KAFKA_STORAGE_ERROR',
  74: 'FENCED_LEADER_EPOCH',
  75: 'UNKNOWN_LEADER_EPOCH',
};
const FATAL: Record<number, string> = {
  2: 'CORRUPT_MESSAGE',
  10: 'MESSAGE_TOO_LARGE',
  17: 'INVALID_TOPIC_EXCEPTION',
  18: 'RECORD_LIST_TOO_LARGE',
  29: 'TOPIC_AUTHORIZATION_FAILED',
  31: 'CLUSTER_AUTHORIZATION_FAILED',
  32: 'INVALID_TIMESTAMP',
  35: 'UNSUPPORTED_VERSION',
  43: 'POLICY_VIOLATION',
  87: 'INVALID_RECORD',
};

export function produceError(errorCode: number, topic: string, partition: number): Error {
  const retriable = RETRIABLE[errorCode];
  if (retriable) return new KafkaBrokerUnavailable(`Kafka refused ${topic}[${partition}] for now: ${retriable} (error code ${errorCode})`);
  return new KafkaProduceRefused(`Kafka refused ${topic}[${partition}]: ${FATAL[errorCode] ?? 'error'} (error code ${errorCode}); the batch cannot be written as it is`);
}

/**
 * The broker or this client refused the other's credentials: a wrong SASL user or password, a
 * mechanism the listener does not take, a certificate that does not verify. Sending again cannot
 * help, so ingest stops with the message (which names the variable to fix) instead of waiting.
 */
export class KafkaSecurityRejected extends ConfigError {}
