import { badRequest } from '../errors';

/**
 * Request parameters read the same way from a query string (GET) and a JSON body (POST), so both
 * verbs share one parser and one set of error messages. Only the names a route declares are
 * accepted: a typo (`sizee=5`) is an error, never silently ignored.
 */
export type ParamValue = string | number | boolean;
/** Declared parameters and the JSON type each takes in a body. */
export type ParamKinds = Readonly<Record<string, 'string' | 'integer' | 'boolean'>>;

// Lone UTF-16 surrogates cannot be encoded for Elasticsearch; NUL and other C0 controls have no
// business in a search parameter and break logs and CSV.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const MAX_PARAM_CHARS = 4_000;

export class Params {
  private readonly values = new Map<string, string>();

  constructor(raw: Record<string, unknown>, kinds: ParamKinds) {
    const allowed = Object.keys(kinds);
    for (const [name, v] of Object.entries(raw)) {
      if (!allowed.includes(name)) {
        throw badRequest('PARAM_UNKNOWN', `unknown parameter ${JSON.stringify(name.slice(0, 60))}; this route takes ${allowed.join(', ')}`);
      }
      if (v === undefined) continue;
      if (v === null) throw badRequest('PARAM_INVALID', `${name} is null; give a value or leave it out`);
      if (Array.isArray(v)) throw badRequest('PARAM_REPEATED', `${name} is given ${v.length} times; give it once (lists are comma-separated)`);
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) throw badRequest('PARAM_INVALID', `${name} must be a finite number`);
        this.values.set(name, String(v));
      } else if (typeof v === 'boolean') this.values.set(name, String(v));
      // An empty text value means "not given" (`q=`); an empty number or flag is a mistake to report,
      // as the OpenAPI types say (the docs page leaves empty fields out).
      else if (typeof v === 'string') {
        if (v !== '') this.values.set(name, checkText(name, v));
        else if (kinds[name] !== 'string') throw badRequest('PARAM_INVALID', `${name} is empty; give ${kinds[name] === 'integer' ? 'a whole number' : 'true or false'}, or leave it out`);
      }
      else throw badRequest('PARAM_INVALID', `${name} must be a string or a number, not ${typeof v === 'object' ? 'an object' : typeof v}`);
    }
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  str(name: string): string | undefined {
    return this.values.get(name);
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const s = this.values.get(name);
    if (s === undefined || s === '') return fallback;
    if (!/^-?\d{1,15}$/.test(s)) throw badRequest('PARAM_INVALID', `${name} must be a whole number between ${min} and ${max}; got ${JSON.stringify(s.slice(0, 40))}`);
    const n = Number(s);
    if (n < min || n > max) throw badRequest('PARAM_OUT_OF_RANGE', `${name} must be between ${min} and ${max}; got ${n}`);
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const s = this.values.get(name);
    if (s === undefined || s === '') return fallback;
    if (s === 'true' || s === '1') return true;
    if (s === 'false' || s === '0') return false;
    throw badRequest('PARAM_INVALID', `${name} must be true or false; got ${JSON.stringify(s.slice(0, 40))}`);
  }

  /** A comma-separated list; empty items are dropped. */
  list(name: string, maxItems: number): string[] {
    const s = this.values.get(name);
    if (s === undefined) return [];
    const items = s.split(',').map((x) => x.trim()).filter(Boolean);
    if (items.length > maxItems) throw badRequest('PARAM_OUT_OF_RANGE', `${name} lists ${items.length} items; at most ${maxItems} are allowed`);
    return items;
  }

  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const s = this.values.get(name);
    if (s === undefined || s === '') return fallback;
    if (!(choices as readonly string[]).includes(s)) throw badRequest('PARAM_INVALID', `${name} must be one of ${choices.join(', ')}; got ${JSON.stringify(s.slice(0, 40))}`);
    return s as T;
  }
}

function checkText(name: string, v: string): string {
  if (v.length > MAX_PARAM_CHARS) throw badRequest('PARAM_TOO_LONG', `${name} is ${v.length} characters; at most ${MAX_PARAM_CHARS} are allowed`);
  if (CONTROL.test(v)) throw badRequest('PARAM_INVALID_CHARACTERS', `${name} contains a control character (e.g. NUL); remove it`);
  if (LONE_SURROGATE.test(v)) throw badRequest('PARAM_INVALID_CHARACTERS', `${name} contains an unpaired UTF-16 surrogate; send valid Unicode text`);
  return v;
}
