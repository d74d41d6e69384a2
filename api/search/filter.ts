import type { FieldType, IndexSpec } from '../../config/pipeline';
import { badRequest } from '../errors';
import { isCalendarDate } from './dates';
import { exactPath, findPath, listPaths, PATH_PATTERN, type FieldPath } from './field-paths';

/**
 * The filter syntax (documented in docs/api.md, "Search"): clauses separated by spaces, all of
 * which must hold (AND).
 *
 *   system:nes,snes          field is one of the values
 *   year:1990..1999          inclusive range; either end may be left out (year:2000..)
 *   -supported:no            excludes the matching documents
 *   publisher:"Sega, Inc."   double quotes around values with spaces, commas or quotes (\" inside)
 *
 *   items.product.category:toys   a field of a relation, by its path (field-paths.ts)
 *
 * Only fields marked `filterable` can be named; values are checked against the field's type
 * before anything reaches Elasticsearch. Clauses on one nested relation must hold within one of
 * its objects (es-filters.ts).
 */
export type FilterValue = string | number | boolean;

interface ClauseBase {
  /** The field's path as the caller wrote it. */
  field: string;
  esField: string;
  type: FieldType;
  negate: boolean;
  /** The nested relations holding the field, outermost first (FieldPath.nested); none at the root. */
  nested?: readonly string[];
  /**
   * Set on clauses the caller's key imposes (a browser key's filter, auth/restriction-scope.ts),
   * never on parsed request text: they narrow every count and never move to a facet's
   * post_filter, so a refinement list cannot show what the key may not see.
   */
  mandatory?: true;
}
export type FilterClause = ClauseBase & ({ kind: 'terms'; values: FilterValue[] } | { kind: 'range'; gte?: FilterValue; lte?: FilterValue });

const MAX_CLAUSES = 20;
const MAX_VALUES = 100;
const MAX_VALUE_CHARS = 1_024;

export function parseFilter(text: string | undefined, index: IndexSpec): FilterClause[] {
  if (text === undefined || text.trim() === '') return [];
  const clauses: FilterClause[] = [];
  let pos = 0;
  const fail = (what: string): never => {
    throw badRequest('FILTER_INVALID', `filter: ${what} at character ${pos + 1}; the syntax is field:value[,value] or field:from..to, clauses separated by spaces, e.g. system:nes,snes year:1990..1999 -supported:no`);
  };
  while (pos < text.length) {
    if (/\s/.test(text[pos] as string)) {
      pos++;
      continue;
    }
    if (clauses.length === MAX_CLAUSES) throw badRequest('FILTER_TOO_COMPLEX', `filter has more than ${MAX_CLAUSES} clauses; combine values into one clause (field:a,b,c)`);
    const negate = text[pos] === '-';
    if (negate) pos++;
    const name = PATH_PATTERN.exec(text.slice(pos))?.[0];
    if (!name) fail('expected a field name');
    pos += (name as string).length;
    if (text[pos] !== ':') fail(`expected ":" after ${JSON.stringify(name)}`);
    pos++;
    const field = filterableField(index, name as string);
    const raw: Array<{ v: string; quoted: boolean }> = [];
    for (;;) {
      if (text[pos] === '"') {
        let v = '';
        pos++;
        while (pos < text.length && text[pos] !== '"') {
          if (text[pos] === '\\' && pos + 1 < text.length) pos++;
          v += text[pos];
          pos++;
        }
        if (pos >= text.length) fail('unclosed double quote');
        pos++;
        raw.push({ v, quoted: true });
      } else {
        const v = /^[^\s,"]*/.exec(text.slice(pos))?.[0] ?? '';
        if (v === '') fail(`expected a value for ${field.path}`);
        pos += v.length;
        raw.push({ v, quoted: false });
      }
      if (raw.length > MAX_VALUES) throw badRequest('FILTER_TOO_COMPLEX', `filter on ${field.path} lists more than ${MAX_VALUES} values`);
      if (text[pos] !== ',') break;
      pos++;
    }
    if (pos < text.length && !/\s/.test(text[pos] as string)) fail('expected a space between clauses');
    clauses.push(toClause(field, negate, raw));
  }
  return clauses;
}

function filterableField(index: IndexSpec, name: string): FieldPath {
  const field = findPath(index, name);
  if (!field?.spec.filterable) throw badRequest('FILTER_FIELD_NOT_ALLOWED', `filter: ${JSON.stringify(name)} is not a filterable field of ${index.name}; filterable fields: ${listPaths(index, (f) => f.spec.filterable)}`);
  return field;
}

function toClause(path: FieldPath, negate: boolean, raw: Array<{ v: string; quoted: boolean }>): FilterClause {
  const field = { name: path.path, type: path.spec.type };
  const base = { field: path.path, esField: exactPath(path), type: field.type, negate, ...(path.nested.length ? { nested: path.nested } : {}) };
  const first = raw[0] as { v: string; quoted: boolean };
  if (raw.length === 1 && !first.quoted && first.v.includes('..')) {
    if (!isOrdered(field.type)) throw badRequest('FILTER_INVALID', `filter: ${field.name} is a ${field.type} field; ranges (a..b) apply to numeric and date fields only`);
    const [lo, hi, ...rest] = first.v.split('..');
    if (rest.length || (lo === '' && hi === '')) throw badRequest('FILTER_INVALID', `filter: ${JSON.stringify(first.v)} is not a range; write from..to, from.. or ..to`);
    const gte = lo ? typedValue(field, lo) : undefined;
    const lte = hi ? typedValue(field, hi) : undefined;
    if (typeof gte === 'number' && typeof lte === 'number' && gte > lte) throw badRequest('FILTER_INVALID', `filter: the range ${first.v} on ${field.name} is empty; put the smaller value first`);
    return { ...base, kind: 'range', ...(gte === undefined ? {} : { gte }), ...(lte === undefined ? {} : { lte }) };
  }
  return { ...base, kind: 'terms', values: raw.map((r) => typedValue(field, r.v)) };
}

export function isOrdered(type: FieldType): boolean {
  return ['integer', 'long', 'float', 'double', 'date'].includes(type);
}

const INT_LIMITS: Partial<Record<FieldType, bigint>> = { integer: 2n ** 31n, long: 2n ** 63n };

/** Converts one value to the field's type, or explains why it does not fit. */
export function typedValue(field: { name: string; type: FieldType }, v: string): FilterValue {
  const bad = (expected: string): never => {
    throw badRequest('FILTER_VALUE_INVALID', `filter: ${JSON.stringify(v.slice(0, 60))} is not a valid value for ${field.name}; expected ${expected}`);
  };
  switch (field.type) {
    case 'integer':
    case 'long': {
      if (!/^-?\d{1,19}$/.test(v)) return bad('a whole number');
      const n = BigInt(v);
      const limit = INT_LIMITS[field.type] as bigint;
      if (n >= limit || n < -limit) return bad(`a ${field.type} (within ±${limit})`);
      // Beyond 2^53 the exact digits travel as a string; Elasticsearch parses them exactly.
      return Number.isSafeInteger(Number(v)) ? Number(v) : v;
    }
    case 'float':
    case 'double': {
      const n = Number(v);
      if (!/^-?\d+(\.\d+)?([eE][-+]?\d{1,3})?$/.test(v) || !Number.isFinite(n)) return bad('a number such as 1.5');
      return n;
    }
    case 'date':
      if (!isCalendarDate(v)) return bad('a date such as 1994, 1994-03 or 1994-03-21T10:00:00Z (a real day of the calendar; offsets within ±18:00)');
      return v;
    case 'boolean':
      if (v !== 'true' && v !== 'false') return bad('true or false');
      return v === 'true';
    default:
      if (v.length > MAX_VALUE_CHARS) return bad(`at most ${MAX_VALUE_CHARS} characters`);
      return v;
  }
}

/** A canonical text of the filters (clause order does not change the result): for cursor and cache keys. */
export function canonicalFilter(clauses: readonly FilterClause[]): string[] {
  return clauses.map((c) => JSON.stringify([c.negate, c.field, c.kind === 'terms' ? [...c.values].map(String).sort() : [c.gte ?? null, c.lte ?? null]])).sort();
}
