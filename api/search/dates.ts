/**
 * Calendar checks for the date values the API passes to Elasticsearch. Date.parse rolls
 * 2020-02-30 over to 1 March and accepts offsets such as +19:00, which Elasticsearch then
 * refuses (offsets are at most ±18:00), so those requests ended as a 400 QUERY_REJECTED with a
 * warning logged per request instead of a 400 that names the parameter.
 */
const DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?)?)?$/;
const OFFSET = /^[+-](\d{2}):?(\d{2})$/;

/** 1994, 1994-03, 1994-03-21, 1994-03-21T10:00[:00[.123]][Z|±hh:mm], each part within range. */
export function isCalendarDate(v: string): boolean {
  const m = DATE.exec(v);
  if (!m) return false;
  const [, y, mo, d, h, mi, s, zone] = m;
  const month = mo === undefined ? 1 : Number(mo);
  if (month < 1 || month > 12) return false;
  if (d !== undefined && (Number(d) < 1 || Number(d) > daysIn(Number(y), month))) return false;
  if (h !== undefined && Number(h) > 23) return false;
  if (mi !== undefined && Number(mi) > 59) return false;
  if (s !== undefined && Number(s) > 59) return false;
  return zone === undefined || zone === 'Z' || isUtcOffset(zone);
}

/** ±hh:mm (or ±hhmm) within ±18:00, the range Elasticsearch (java.time.ZoneOffset) accepts. */
export function isUtcOffset(v: string): boolean {
  const m = OFFSET.exec(v);
  if (!m) return false;
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  return Number(m[2]) < 60 && minutes <= 18 * 60;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Proleptic Gregorian, as Elasticsearch's java.time (Date.UTC would read year 0050 as 1950). */
function daysIn(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : (DAYS[month - 1] as number);
}
