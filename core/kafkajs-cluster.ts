import { ConfigResourceTypes, type Admin, type Kafka } from 'kafkajs';
import type { KafkaCluster, NewTopic, PartitionOffsets, TopicDescription } from './kafka-cluster';

/**
 * The cluster port through kafkajs's admin client (bootstrap, retries, metadata requests). The
 * admin connects on first use; close() disconnects it if it did, and a later call connects again.
 */
export function kafkajsCluster(kafka: Kafka): KafkaCluster {
  let admin: Admin | undefined;
  let connecting: Promise<Admin> | undefined;
  const use = (): Promise<Admin> => {
    connecting ??= (async () => {
      const a = kafka.admin();
      try {
        await a.connect();
      } catch (err) {
        connecting = undefined;
        await a.disconnect().catch(() => undefined);
        throw err;
      }
      admin = a;
      return a;
    })();
    return connecting;
  };
  return {
    topicNames: async () => (await use()).listTopics(),
    describeCluster: async () => {
      const c = await (await use()).describeCluster();
      return { brokers: new Map(c.brokers.map((b) => [b.nodeId, { host: b.host, port: b.port }])), controller: c.controller };
    },
    describeTopics: async (topics): Promise<TopicDescription[]> => {
      const { topics: meta } = await (await use()).fetchTopicMetadata({ topics: [...topics] });
      return meta.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: p.replicas })).sort((a, b) => a.partition - b.partition),
      }));
    },
    createTopics: async (topics: readonly NewTopic[]) => {
      await (await use()).createTopics({ waitForLeaders: true, topics: topics.map((t) => ({ ...t, configEntries: [...t.configEntries] })) });
    },
    offsets: async (topic): Promise<PartitionOffsets[]> => (await (await use()).fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, low: p.low, high: p.high })),
    committed: async (groupId, topics) => (await (await use()).fetchOffsets({ groupId, topics: [...topics] })).map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, offset: p.offset })) })),
    setCommitted: async (groupId, topic, offsets) => {
      await (await use()).setOffsets({ groupId, topic, partitions: offsets.map((o) => ({ partition: o.partition, offset: o.offset })) });
    },
    deleteGroups: async (groupIds) => {
      await (await use()).deleteGroups([...groupIds]);
    },
    topicConfigs: async (topics, names) => {
      const out = new Map<string, Map<string, string>>();
      if (!topics.length) return out;
      const { resources } = await (await use()).describeConfigs({
        includeSynonyms: false,
        resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: [...names] })),
      });
      for (const r of resources) out.set(r.resourceName, new Map(r.configEntries.filter((c) => names.includes(c.configName)).map((c) => [c.configName, c.configValue])));
      return out;
    },
    close: async () => {
      const a = admin ?? (connecting ? await connecting.catch(() => undefined) : undefined);
      admin = undefined;
      connecting = undefined;
      await a?.disconnect();
    },
  };
}
