import type { Consumer, Kafka } from 'kafkajs';
import type { GroupConsumerOptions } from './kafka-client';
import type { GroupConsumer } from './kafka-group-consumer';

const natives = new WeakMap<GroupConsumer, Consumer>();

/** kafkajs's own consumer behind a group consumer this adapter made, for tests and benches that watch or break its internals. */
export function kafkajsConsumerOf(group: GroupConsumer): Consumer {
  const consumer = natives.get(group);
  if (!consumer) throw new TypeError('this group consumer is not the kafkajs adapter\'s');
  return consumer;
}

/**
 * The consumer-group port through kafkajs's consumer: offsets are committed only when told
 * (autoCommit off, batches not auto-resolved).
 */
export function kafkajsGroupConsumer(kafka: Kafka, opts: GroupConsumerOptions): GroupConsumer {
  // kafkajs's defaults apply to the options left undefined (its consumer destructures them with defaults).
  const consumer = kafka.consumer({
    groupId: opts.groupId,
    maxWaitTimeInMs: opts.maxWaitTimeMs,
    sessionTimeout: opts.sessionTimeoutMs,
    heartbeatInterval: opts.heartbeatIntervalMs,
    maxBytesPerPartition: opts.maxBytesPerPartition,
    allowAutoTopicCreation: opts.allowAutoTopicCreation,
  });
  const group: GroupConsumer = {
    connect: () => consumer.connect(),
    subscribe: (topics) => consumer.subscribe({ topics: [...topics], fromBeginning: true }),
    run: ({ partitionsConcurrently, eachBatch }) => consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: partitionsConcurrently,
      eachBatch: ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => eachBatch({
        topic: batch.topic,
        partition: batch.partition,
        messages: batch.messages,
        lastOffset: () => batch.lastOffset(),
        resolveOffset, heartbeat, isRunning, isStale,
      }),
    }),
    commit: (topic, partition, offset) => consumer.commitOffsets([{ topic, partition, offset }]),
    seek: (topic, partition, offset) => consumer.seek({ topic, partition, offset }),
    pause: (topics) => consumer.pause(topics.map((topic) => ({ topic }))),
    disconnect: () => consumer.disconnect(),
    onCrash: (listener) => void consumer.on(consumer.events.CRASH, ({ payload }) => listener(payload.error, payload.restart)),
    onAssignment: (listener) => void consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => listener(payload.memberAssignment)),
    isRebalance,
  };
  natives.set(group, consumer);
  return group;
}

/** kafkajs's own test for the errors after which the member joins the group again. */
function isRebalance(err: unknown): boolean {
  const type = (err as { type?: string } | undefined)?.type;
  return type === 'REBALANCE_IN_PROGRESS' || type === 'NOT_COORDINATOR_FOR_GROUP' || type === 'ILLEGAL_GENERATION';
}
