import type { BulkOp } from './to-bulk-ops';

/**
 * Cuts ops into bulk requests of at most `maxDocs` ops and about `maxBytes` of body: whichever
 * comes first. Sizes are the ops' estimates (`bytes`); an op bigger than `maxBytes` goes alone
 * rather than never. Order is kept, so a document's op stays after older ops of the batch.
 */
export function chunkOps(ops: readonly BulkOp[], maxDocs: number, maxBytes = Infinity): BulkOp[][] {
  const chunks: BulkOp[][] = [];
  let current: BulkOp[] = [];
  let bytes = 0;
  for (const op of ops) {
    const size = op.bytes ?? 0;
    if (current.length && (current.length >= maxDocs || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(op);
    bytes += size;
  }
  if (current.length) chunks.push(current);
  return chunks;
}
