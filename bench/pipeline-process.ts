/**
 * A bench's pipeline (ingest and the indexer) in a child process of its own, so the bench's
 * writers and probes do not share the pipeline's event loop. The child starts it, reports the
 * snapshot, then answers `caughtUp`, `queries` and `close` over IPC.
 */
import { fork } from 'node:child_process';

/** startedSecs: ingest and the indexer started; ingestSecs: ingest's snapshot in Kafka; secs: the index caught up. */
export interface Snapshot { secs: number; startedSecs: number; ingestSecs: number; cpuUs: number; esUs: number; queries: number; rebuilds: number }
/** The pipeline as the child runs it, its snapshot done. */
export interface PipelineRun { index: string; snapshot: Snapshot; caughtUp: () => Promise<void>; close: () => Promise<void> }
/** The pipeline as the parent sees it. */
export interface PipelineHandle { index: string; snapshot: Snapshot; caughtUp: () => Promise<void>; queries: () => Promise<number>; close: () => Promise<void> }
type Request = { id: number; type: 'caughtUp' | 'queries' | 'close' };
type Reply = { id: number; queries: number; error?: string } | { type: 'snapshot'; index: string; snapshot: Snapshot } | { type: 'failed'; error: string };

/** In the child: runs `start`, reports its snapshot, then answers until closed or disconnected; `queries` counts the pipeline's Postgres queries. */
export async function servePipeline(start: () => Promise<PipelineRun>, queries: () => number): Promise<void> {
  const send = (m: Reply) => process.send!(m);
  let run: PipelineRun;
  try {
    run = await start();
  } catch (err) {
    send({ type: 'failed', error: (err as Error).stack ?? String(err) });
    return;
  }
  send({ type: 'snapshot', index: run.index, snapshot: run.snapshot });
  await new Promise<void>((resolve) => {
    process.on('message', (m: Request) => void (async () => {
      try {
        if (m.type === 'caughtUp') await run.caughtUp();
        if (m.type === 'close') await run.close();
        send({ id: m.id, queries: queries() });
      } catch (err) {
        send({ id: m.id, queries: queries(), error: String(err) });
      }
      if (m.type === 'close') resolve();
    })());
    process.on('disconnect', () => resolve());
  });
}

/**
 * In the parent: forks `file` with `argv` (which makes it call servePipeline) and resolves once
 * the child reported its snapshot. `cleanups` gets the handle's close before the snapshot is
 * awaited, so a bench that fails meanwhile still stops the child.
 */
export async function forkPipeline(file: string, argv: string[], label: string, cleanups: Array<{ what: string; fn: () => Promise<unknown> }>): Promise<PipelineHandle> {
  const child = fork(file, argv, { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (q: number) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exited = false;
  const first = new Promise<{ index: string; snapshot: Snapshot }>((resolve, reject) => {
    child.on('message', (m: Reply) => {
      if ('type' in m && m.type === 'snapshot') resolve(m);
      else if ('type' in m && m.type === 'failed') reject(new Error(`pipeline ${label}: ${m.error}`));
      else if ('id' in m) {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.error) p?.reject(new Error(m.error));
        else p?.resolve(m.queries);
      }
    });
    child.on('exit', (code) => {
      exited = true;
      reject(new Error(`pipeline ${label} exited with ${code}`));
      for (const p of pending.values()) p.reject(new Error(`pipeline ${label} exited with ${code}`));
    });
  });
  const ask = (type: Request['type']): Promise<number> => new Promise((resolve, reject) => {
    if (exited) return reject(new Error(`pipeline ${label} is gone`));
    const id = nextId++;
    pending.set(id, { resolve, reject });
    child.send({ id, type } satisfies Request);
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= (async () => {
    if (exited) return;
    await ask('close').catch(() => undefined);
    if (!exited) await new Promise((r) => child.once('exit', r));
  })());
  cleanups.push({ what: `pipeline ${label}`, fn: close });
  const { index, snapshot } = await first;
  return { index, snapshot, caughtUp: async () => void (await ask('caughtUp')), queries: () => ask('queries'), close };
}
