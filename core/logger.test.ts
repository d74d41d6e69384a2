import { PipelineError } from './errors';
import { createLogger } from './logger';

function capture(): { log: ReturnType<typeof createLogger>; lines: Array<Record<string, any>> } {
  const lines: Array<Record<string, any>> = [];
  return { log: createLogger('svc', 'debug', (l) => lines.push(JSON.parse(l) as Record<string, any>)), lines };
}

describe('logger: errors', () => {
  it('logs the cause chain (name, message, code of each), the outermost stack and a PipelineError\'s context', () => {
    const { log, lines } = capture();
    const socket = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const pg = new Error('could not read the slot', { cause: socket });
    const err = new PipelineError('replication failed', { code: 'REPLICATION_FAILED', retriable: true, cause: pg, context: { slot: 'search_pipeline', lsn: 10n } });
    log.error('ingest stopped', { err });
    const e = lines[0]!.err;
    expect(e).toMatchObject({ name: 'PipelineError', message: 'replication failed', code: 'REPLICATION_FAILED', context: { slot: 'search_pipeline', lsn: '10' } });
    expect(e.stack).toMatch(/^PipelineError: replication failed\n\s+at /);
    expect(e.causes).toEqual([
      { name: 'Error', message: 'could not read the slot' },
      { name: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:5432', code: 'ECONNREFUSED' },
    ]);
  });

  it('stops at a cause cycle and keeps a cause that is not an Error', () => {
    const { log, lines } = capture();
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    log.warn('x', { err: b, other: new Error('timeout', { cause: 'socket hang up' }) });
    expect(lines[0]!.err.causes.map((c: { message: string }) => c.message)).toEqual(['a']);
    expect(lines[0]!.other.causes).toEqual([{ name: 'string', message: 'socket hang up' }]);
  });

  it('lists an AggregateError\'s members (Node reports a refused host this way, with an empty message)', () => {
    const { log, lines } = capture();
    const agg = Object.assign(new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:9200'), { code: 'ECONNREFUSED' }), new Error('connect ECONNREFUSED 127.0.0.1:9200')], ''), { code: 'ECONNREFUSED' });
    log.error('x', { err: new Error('elasticsearch unreachable', { cause: agg }) });
    expect(lines[0]!.err.causes[0]).toMatchObject({ name: 'AggregateError', code: 'ECONNREFUSED', errors: [{ message: 'connect ECONNREFUSED ::1:9200', code: 'ECONNREFUSED' }, { message: 'connect ECONNREFUSED 127.0.0.1:9200' }] });
  });

  it('still writes bigints as strings and skips levels below its own', () => {
    const lines: string[] = [];
    const log = createLogger('svc', 'info', (l) => lines.push(l));
    log.debug('hidden');
    log.info('shown', { lsn: 2n ** 64n });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', ns: 'svc', msg: 'shown', lsn: '18446744073709551616' });
  });
});
