import { EventEmitter } from 'node:events';
import { exitAfterClose, failOnUncaught } from './lifecycle';
import { silentLogger } from './logger';

describe('exitAfterClose', () => {
  it('exits 1 only after close finished: the indexer leaves its Kafka group before the process ends', async () => {
    const steps: string[] = [];
    const close = async (): Promise<void> => {
      await new Promise((r) => setTimeout(r, 20));
      steps.push('closed');
    };
    await exitAfterClose(close, silentLogger, 1_000, (code) => steps.push(`exit ${code}`))();
    expect(steps).toEqual(['closed', 'exit 1']);
  });

  it('exits anyway when close hangs or throws', async () => {
    const codes: number[] = [];
    await exitAfterClose(() => new Promise<void>(() => undefined), silentLogger, 20, (c) => codes.push(c))();
    await exitAfterClose(() => Promise.reject(new Error('boom')), silentLogger, 1_000, (c) => codes.push(c))();
    expect(codes).toEqual([1, 1]);
  });
});

describe('failOnUncaught', () => {
  it('routes uncaught exceptions and unhandled rejections to the failure path (which closes) instead of a bare crash', () => {
    const proc = new EventEmitter();
    const seen: string[] = [];
    failOnUncaught((err, origin) => seen.push(`${origin}: ${(err as Error).message}`), proc);
    proc.emit('uncaughtException', new Error('thrown'));
    proc.emit('unhandledRejection', new Error('rejected'), Promise.resolve());
    expect(seen).toEqual(['uncaughtException: thrown', 'unhandledRejection: rejected']);
  });
});
