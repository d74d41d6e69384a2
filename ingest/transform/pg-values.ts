import { parseJsonExact } from '../../core/exact-json';

/**
 * pgoutput sends every value as text. We convert by type OID ourselves instead of using
 * pg's global parsers, which turn timestamptz into a Date (microseconds cut off) and
 * `infinity` into the number Infinity. Exactness rules: int8 and numeric stay strings; numbers
 * inside json/jsonb that a JS number cannot hold exactly too (core/exact-json.ts).
 */
const INT_SMALL = new Set([21, 23, 26]); // int2, int4, oid
const FLOAT = new Set([700, 701]); // float4, float8
const BOOL = 16;
const JSON_TYPES = new Set([114, 3802]); // json, jsonb
const TIMESTAMPTZ = 1184;
const TIMESTAMP = 1114;

export function convertPgText(text: string, typeOid: number): unknown {
  if (INT_SMALL.has(typeOid)) return Number(text);
  if (FLOAT.has(typeOid)) {
    const n = Number(text);
    return Number.isFinite(n) ? n : text; // NaN / Infinity have no JSON number form: keep the text
  }
  if (typeOid === BOOL) return text === 't';
  if (JSON_TYPES.has(typeOid)) return parseJsonExact(text);
  if (typeOid === TIMESTAMPTZ || typeOid === TIMESTAMP) return isoTimestamp(text);
  return text; // int8, numeric, text, date, uuid, arrays, ...: the exact text
}

/** "2024-01-02 03:04:05.123456+00" → "2024-01-02T03:04:05.123456+00:00"; infinity and BC stay as sent. */
export function isoTimestamp(text: string): string {
  const m = /^(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d)?(?::?(\d\d))?$/.exec(text);
  if (!m) return text;
  const zone = m[3] === undefined ? '' : `${m[3]}:${m[4] ?? '00'}`;
  return `${m[1]}T${m[2]}${zone}`;
}
