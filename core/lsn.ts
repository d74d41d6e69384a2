/**
 * Postgres WAL positions ("16/B374D848") as BigInt. LSNs pass 2^53 on busy databases,
 * so they never become JS numbers anywhere in the pipeline.
 */
const LSN_TEXT = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

export function parseLsn(text: string): bigint {
  const m = LSN_TEXT.exec(text);
  if (!m) throw new TypeError(`not an LSN: ${JSON.stringify(text)} (expected "XXXXXXXX/XXXXXXXX" hex)`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

export function formatLsn(lsn: bigint): string {
  if (lsn < 0n || lsn > 0xffffffffffffffffn) throw new RangeError(`LSN out of range: ${lsn}`);
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** The decimal form events carry: exact, sortable as BigInt, accepted by Elasticsearch as a version. */
export function lsnToDecimal(text: string): string {
  return parseLsn(text).toString();
}

export function maxLsn(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** Decimal LSNs without leading zeros: the shorter is smaller; equal lengths compare as text. Spares a BigInt per comparison. */
export function decimalLsnBelow(a: string, b: string): boolean {
  return a.length < b.length || (a.length === b.length && a < b);
}
