/**
 * The status report, as `npm run status -- --json` prints it. Each part has a `health`:
 * ok; warn (look at it, nothing is broken: dead letters parked, a lag above the warning level);
 * fail (something is down or stuck: exit 1); unknown (not configured: the variable to set is in
 * `note`). A part that could not be read has `error`, a sentence saying what failed.
 */
export type Health = 'ok' | 'warn' | 'fail' | 'unknown';

export interface PartBase { health: Health; error?: string; note?: string }

export interface ServicePart extends PartBase { url?: string; status?: string; version?: string; problems?: unknown[] }
export interface InfraPart extends PartBase { address?: string; version?: string; detail?: string }

export interface SlotPart extends PartBase {
  slot: string;
  active?: boolean;
  walStatus?: string | null;
  lagBytes?: number;
  /** From ingest's metrics: how old the last confirmed commit is. */
  lagSeconds?: number;
  confirmedLsn?: string | null;
}

export interface PartitionLag { topic: string; partition: number; committed: string | null; end: string; lag: number }
export interface ConsumerLagPart extends PartBase { group: string; total?: number; partitions?: PartitionLag[] }

export interface SnapshotTable { table: string; rowsDone: number; rowsTotal: number | null; done: boolean; percent: number | null; etaSeconds?: number }
export interface ReindexRun { index: string; owner: string; expiresAt: string }
export interface ProgressPart extends PartBase { snapshot?: SnapshotTable[]; reindex?: ReindexRun[] }

export interface IndexStatus {
  index: string;
  /** The concrete index behind the alias (a reindex's generation). */
  target?: string;
  documents?: number;
  /** The lowest position over every partition of every topic feeding the index; null while some partition has none. */
  watermark: { lsn: string; commitTs: string | null; ageSeconds: number | null; updatedAt: string } | null;
  /** Partitions with a position / partitions expected, over all topics of the index. */
  positions: { have: number; expected: number };
}
export interface IndexesPart extends PartBase { indexes?: IndexStatus[] }

export interface DeadLetterSummary { ref: string; parkedAt: string; stage: string; index?: string; id?: string; table?: string; errorType: string; reason: string }
export interface DeadLettersPart extends PartBase { topic: string; count?: number; recent?: DeadLetterSummary[] }

export interface ErrorCounter { service: string; metric: string; labels: Record<string, string>; value: number }
export interface LogLine { service: string; at?: string; message: string }
export interface ErrorsPart extends PartBase { counters?: ErrorCounter[]; recent?: LogLine[] }

export interface StatusReport {
  at: string;
  healthy: boolean;
  services: { ingest: ServicePart; indexer: ServicePart; api: ServicePart };
  infra: { postgres: InfraPart; kafka: InfraPart; elasticsearch: InfraPart; redis: InfraPart };
  slot: SlotPart;
  consumerLag: ConsumerLagPart;
  progress: ProgressPart;
  indexes: IndexesPart;
  deadLetters: DeadLettersPart;
  errors: ErrorsPart;
}

export const notConfigured = (variable: string): PartBase => ({ health: 'unknown', note: `not configured: set ${variable}` });
