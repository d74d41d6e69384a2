import { badRequest } from '../errors';

/**
 * Checks `q` before it reaches `simple_query_string`. That parser never fails, it silently
 * reads a stray `(` or `"` as text, which hides the caller's mistake; and a query of many
 * short prefixes expands into thousands of terms. So syntax mistakes and expensive shapes get
 * a 400 saying what to change. Supported operators: + (and) | (or) - (not) "phrase" (group)
 * and a trailing * for a prefix; there is no field:value, regex or wildcard syntax.
 */
export const MAX_QUERY_CHARS = 1_000;
const MAX_TERMS = 32;
const MAX_PREFIXES = 3;
const MIN_PREFIX_CHARS = 2;

export interface QueryShape {
  /** True when q uses no operator: only then are synonyms expanded (synonyms/expand.ts). */
  plain: boolean;
  /**
   * True when q has no operator but ( ), + and a dash that starts no word: such a query means
   * its words, all required (+ is "and", which every word already is), so it is ranked with typo
   * tolerance (ranking.ts). Names are typed that way: "Tetris (Euro)", "Turbo C++",
   * "Street Fighter II - The World Warrior", "Shrek + Shark Tale".
   */
  rankable: boolean;
}

export function checkQuery(q: string): QueryShape {
  if (q.length > MAX_QUERY_CHARS) throw badRequest('QUERY_TOO_LONG', `q is ${q.length} characters; at most ${MAX_QUERY_CHARS} are allowed`);
  let depth = 0;
  let inPhrase = false;
  for (let i = 0; i < q.length; i++) {
    const c = q[i];
    if (c === '\\') i++;
    else if (c === '"') inPhrase = !inPhrase;
    else if (!inPhrase && c === '(') depth++;
    else if (!inPhrase && c === ')' && --depth < 0) throw syntax('a ")" has no matching "("; remove it or escape it as \\)');
  }
  if (inPhrase) throw syntax('a double quote is not closed; close the phrase or escape the quote as \\"');
  if (depth > 0) throw syntax('a "(" is not closed; add ")" or escape it as \\(');

  const unquoted = q.replace(/"(?:[^"\\]|\\.)*"/g, ' ');
  const smuggled = /(?:^|[\s(+|-])([A-Za-z_][A-Za-z0-9_.]*):(?=\S)/.exec(unquoted);
  if (smuggled) {
    throw badRequest('QUERY_FIELD_SYNTAX', `q has no field:value syntax (${JSON.stringify(`${smuggled[1]}:`)}); q searches the searchable fields, use the filter parameter to restrict a field, or put a space after the colon to search the text`);
  }
  if (/(?:^|\s)\/.+\/(?:\s|$)/.test(unquoted)) throw badRequest('QUERY_REGEX', 'q has no regular expressions; search for words, or a word prefix ending in *');
  const terms = unquoted.split(/[\s()+|]+/).filter((t) => t.replace(/^-+/, '') !== '');
  if (terms.length > MAX_TERMS) throw badRequest('QUERY_TOO_COMPLEX', `q has ${terms.length} terms; at most ${MAX_TERMS} are allowed`);
  const wild = terms.filter((t) => t.includes('*'));
  for (const t of wild) {
    const bare = t.replace(/^-+/, '');
    const prefix = /^([^*]+)\*$/.exec(bare)?.[1];
    if (prefix === undefined || [...prefix].length < MIN_PREFIX_CHARS) {
      throw badRequest('QUERY_WILDCARD', `q term ${JSON.stringify(bare.slice(0, 40))}: only a trailing * after at least ${MIN_PREFIX_CHARS} characters is supported (e.g. zel*)`);
    }
  }
  if (wild.length > MAX_PREFIXES) throw badRequest('QUERY_WILDCARD', `q has ${wild.length} prefix terms; at most ${MAX_PREFIXES} are allowed`);
  return { plain: !/["+|()*\\~]|(?:^|\s)-/.test(q), rankable: !/["|*\\~]|(?:^|[\s(+])-(?=\S)/.test(q) };
}

function syntax(what: string) {
  return badRequest('QUERY_SYNTAX', `q: ${what}`);
}
