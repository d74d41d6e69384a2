import { env, uniqueName } from '../e2e/support/services';
import { createKafka, ensureTopics } from './kafka';
import { createLogger } from './logger';

/**
 * Against the real broker: ingest and the indexer creating the same new topic at once (what every
 * first start does) make kafkajs log the loser's TOPIC_ALREADY_EXISTS answer. It must not be an
 * error-level line; both creations succeed.
 */
describe('two services creating the same topics at once', () => {
  it('log the lost race at info, not error', async () => {
    const lines: Array<{ level: string; msg: string; error?: string }> = [];
    const log = createLogger('svc', 'debug', (l) => lines.push(JSON.parse(l) as (typeof lines)[number]));
    const brokers = env('KAFKA_BROKERS').split(',');
    const [a, b] = [createKafka(brokers, 'ingest', log), createKafka(brokers, 'indexer', log)];
    // The race is usually lost on the first try; a few fresh topics make sure it happens.
    for (let i = 0; i < 5 && !lines.some((l) => l.error === 'Topic creation errors'); i++) {
      const topic = `${uniqueName('race')}.public.t`;
      await Promise.all([ensureTopics(a, [topic], 3), ensureTopics(b, [topic], 3)]);
    }
    expect(lines.filter((l) => l.error === 'Topic creation errors').map((l) => l.level)).toContain('info');
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
  });
});
