/**
 * json / jsonb values → JSON values without silent damage (docs/architecture.md, "Values" under the CDC pitfalls; docs/reliability.md,
 * bad events). `JSON.parse` turns 12345678901234567890123 into 1.2345678901234568e+22 and
 * a 400-digit number into Infinity (which JSON.stringify then prints as null), and a value nested
 * thousands deep parses but overflows the stack of every JSON.stringify downstream. So:
 * - a number a JS number cannot hold exactly travels as its exact decimal text (a string), the
 *   rule bigint and numeric columns follow;
 * - a value nested deeper than MAX_JSON_DEPTH travels whole as its JSON text (a string), so the
 *   event (event → after → column → ...) stays within the contract's 64 levels
 *   (docs/change-event.md) and no JSON.stringify downstream overflows its stack (Postgres accepts
 *   jsonb nested thousands deep; Node's JSON.stringify overflows at a few thousand).
 */
export const MAX_JSON_DEPTH = 62;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NUMBER_AT = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

export function parseJsonExact(text: string): unknown {
  let depth = 0;
  let maxDepth = 0;
  let unsafe: Array<[number, number]> | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === 0x5b || c === 0x7b) { // [ {
      if (++depth > maxDepth) maxDepth = depth;
    } else if (c === 0x5d || c === 0x7d) { // ] }
      depth--;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) { // - 0-9
      NUMBER_AT.lastIndex = i;
      const m = NUMBER_AT.exec(text);
      if (!m) continue;
      if (!isExactAsNumber(m[0])) (unsafe ??= []).push([i, i + m[0].length]);
      i += m[0].length - 1;
    }
  }
  if (maxDepth > MAX_JSON_DEPTH) return text;
  if (!unsafe) return JSON.parse(text) as unknown;
  let quoted = '';
  let from = 0;
  for (const [start, end] of unsafe) {
    quoted += `${text.slice(from, start)}"${text.slice(start, end)}"`;
    from = end;
  }
  return JSON.parse(quoted + text.slice(from)) as unknown;
}

/** True when Number(literal) printed back denotes the same decimal value. */
export function isExactAsNumber(literal: string): boolean {
  // At most 15 significant digits without an exponent always survive a double round trip.
  if (literal.length <= 15 && !/[eE]/.test(literal)) return true;
  const n = Number(literal);
  if (!Number.isFinite(n)) return false;
  return normalizeDecimal(literal) === normalizeDecimal(String(n));
}

/** "-00120.500e3" → "-1205e2": sign, significant digits, exponent; "0" for zero. */
function normalizeDecimal(s: string): string {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m) return s;
  const frac = m[3] ?? '';
  let digits = (m[2] ?? '') + frac;
  let exp = Number(m[4] ?? 0) - frac.length;
  digits = digits.replace(/^0+/, '');
  const trailing = /0*$/.exec(digits)![0].length;
  if (digits.length === 0) return '0';
  digits = digits.slice(0, digits.length - trailing);
  exp += trailing;
  return `${m[1]}${digits}e${exp}`;
}
