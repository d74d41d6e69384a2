/** One partition's share of a produce: its messages as one encoded record batch (wire/record-batch.ts). */
export interface PartitionBatch {
  topic: string;
  partition: number;
  records: Uint8Array;
}

/** Encoded batches out, resolved when the broker acknowledged all (acks=all): the wire producer, under wire/wire-message-producer.ts. */
export interface BatchProducer {
  connect(): Promise<void>;
  /** At most one batch per (topic, partition): each is appended in one piece, in the order of sends. */
  send(batches: readonly PartitionBatch[]): Promise<void>;
  close(): Promise<void>;
}
