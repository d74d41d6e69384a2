import type { TokenPosition } from '../../core/consistency-token';
import type { AcceptedEvent } from './event-check';

/**
 * The intake's port to Kafka: produce a batch with acks=all and say where it went. Resolves only
 * once the broker acknowledged every event; the positions are the highest commit LSN written to
 * each (topic, partition), read from the produce acknowledgement.
 */
export interface IntakePublisher {
  publish(events: readonly AcceptedEvent[]): Promise<TokenPosition[]>;
}
