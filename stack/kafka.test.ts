import { kafkaClusterId, renderServerProperties } from './kafka';

describe('renderServerProperties', () => {
  const text = renderServerProperties({ port: 41000, controllerPort: 41001 }, '/data/kafka');
  const props = Object.fromEntries(text.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));

  it('binds broker and controller to loopback on the given ports and advertises the broker port', () => {
    expect(props.listeners).toBe('PLAINTEXT://127.0.0.1:41000,CONTROLLER://127.0.0.1:41001');
    expect(props['advertised.listeners']).toBe('PLAINTEXT://127.0.0.1:41000');
    expect(props['controller.quorum.voters']).toBe('1@127.0.0.1:41001');
    expect(props['log.dirs']).toBe('/data/kafka');
  });

  it('sets the single-node and test-friendly defaults', () => {
    expect(props).toMatchObject({
      'process.roles': 'broker,controller',
      'auto.create.topics.enable': 'true',
      'num.partitions': '1',
      'group.initial.rebalance.delay.ms': '0',
      'offsets.topic.replication.factor': '1',
    });
    expect(props['message.max.bytes']).toBeUndefined();
  });
});

describe('kafkaClusterId', () => {
  it('looks like kafka-storage random-uuid output', () => {
    for (let i = 0; i < 200; i++) expect(kafkaClusterId()).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });
});
