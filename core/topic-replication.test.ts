import { replicationWarnings, resolveReplication } from './topic-replication';

describe('topic replication', () => {
  it('picks min(3, brokers) copies and one fewer in sync when unset', () => {
    expect(resolveReplication({}, 1)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
    expect(resolveReplication({}, 2)).toEqual({ replicationFactor: 2, minInsyncReplicas: 1 });
    expect(resolveReplication({}, 3)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(resolveReplication({}, 7)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
  });
  it('uses explicit values, the unset one derived from the other', () => {
    expect(resolveReplication({ replicationFactor: 5 }, 6)).toEqual({ replicationFactor: 5, minInsyncReplicas: 4 });
    expect(resolveReplication({ minInsyncReplicas: 1 }, 3)).toEqual({ replicationFactor: 3, minInsyncReplicas: 1 });
    expect(resolveReplication({ replicationFactor: 1, minInsyncReplicas: 1 }, 3)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
  });
  it('refuses more copies than brokers, naming the variable and the most it can be', () => {
    expect(() => resolveReplication({ replicationFactor: 3 }, 1)).toThrow(/KAFKA_REPLICATION_FACTOR=3 but the Kafka cluster has 1 broker\(s\).*at most 1/);
  });
  it('refuses min.insync.replicas above the replication factor', () => {
    expect(() => resolveReplication({ replicationFactor: 2, minInsyncReplicas: 3 }, 3)).toThrow(/KAFKA_MIN_INSYNC_REPLICAS=3 is above the replication factor 2/);
    expect(() => resolveReplication({ minInsyncReplicas: 2 }, 1)).toThrow(/KAFKA_MIN_INSYNC_REPLICAS=2 is above the replication factor 1/);
  });
  it('warns about choices that do not protect against a broker loss', () => {
    expect(replicationWarnings({ replicationFactor: 1, minInsyncReplicas: 1 }, 1)).toEqual([]);
    expect(replicationWarnings({ replicationFactor: 3, minInsyncReplicas: 2 }, 3)).toEqual([]);
    expect(replicationWarnings({ replicationFactor: 1, minInsyncReplicas: 1 }, 3)[0]).toMatch(/replication factor 1 on a cluster of 3 brokers/);
    expect(replicationWarnings({ replicationFactor: 3, minInsyncReplicas: 1 }, 3)[0]).toMatch(/KAFKA_MIN_INSYNC_REPLICAS=2/);
    expect(replicationWarnings({ replicationFactor: 3, minInsyncReplicas: 3 }, 3)[0]).toMatch(/any broker down stops every produce/);
  });
});
