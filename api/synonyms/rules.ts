import { createHash } from 'node:crypto';
import { badRequest } from '../errors';

/**
 * Synonym rules of one index, applied at query time (expand.ts), so changing them needs no
 * reindex; the local Elasticsearch distribution has no synonym token filter anyway.
 *
 *   laptop, notebook            multi-way: a query for any of them also finds the others
 *   tv, telly => television     one-way: a query for tv (or telly) also finds television; a query
 *                               for television finds only television
 *
 * A side may hold phrases of several words (`flat screen => television set`). The original words
 * always still match: a one-way rule adds alternatives, it does not replace the word (unlike
 * Elasticsearch's `=>` at index time, which rewrites the token).
 */
export const MAX_RULES = 1_000;
const MAX_PHRASES_PER_RULE = 10;
const MAX_WORDS_PER_PHRASE = 5;
const MAX_RULE_CHARS = 500;
/** simple_query_string operators and rule syntax: a phrase holding one would change the query. */
const FORBIDDEN = /["+|()*\\~,=>]|^-/;

export interface CompiledSynonyms {
  /** The rules as given (trimmed), in order: what GET returns. */
  rules: readonly string[];
  /** Normalised phrase (lowercase words joined by one space) → the phrases it also finds. */
  alternatives: ReadonlyMap<string, readonly string[]>;
  /** Most words of a left-hand phrase: how far the query scan looks ahead. */
  longestPhrase: number;
  /** Hash of the rules, or null without rules: joins the result-cache key. */
  version: string | null;
}

export const NO_SYNONYMS: CompiledSynonyms = { rules: [], alternatives: new Map(), longestPhrase: 0, version: null };

/** Lowercases and drops punctuation at a word's edges, as the standard analyzer would split it off. */
export function normaliseWord(w: string): string {
  return w.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
}

export function compileSynonyms(input: readonly unknown[]): CompiledSynonyms {
  if (input.length > MAX_RULES) throw badRequest('SYNONYMS_INVALID', `at most ${MAX_RULES} synonym rules per index; got ${input.length}`);
  const alternatives = new Map<string, string[]>();
  const add = (from: string, to: readonly string[]) => {
    const list = alternatives.get(from) ?? [];
    for (const t of to) if (t !== from && !list.includes(t)) list.push(t);
    alternatives.set(from, list);
  };
  const rules = input.map((raw, i) => {
    const fail = (what: string): never => {
      throw badRequest('SYNONYMS_INVALID', `rules[${i}]: ${what}; write "a, b, c" (each finds the others) or "a, b => c" (a and b also find c)`);
    };
    if (typeof raw !== 'string') return fail('must be a string');
    const rule = raw.trim();
    if (rule.length > MAX_RULE_CHARS) fail(`longer than ${MAX_RULE_CHARS} characters`);
    const sides = rule.split('=>');
    if (sides.length > 2) fail('has more than one "=>"');
    const [left, right] = sides.map((s) => phrases(s, fail));
    if (right === undefined) {
      if ((left as string[]).length < 2) fail('a multi-way rule needs at least two phrases');
      for (const p of left as string[]) add(p, left as string[]);
    } else for (const p of left as string[]) add(p, right);
    return rule;
  });
  const longestPhrase = Math.max(0, ...[...alternatives.keys()].map((k) => k.split(' ').length));
  const version = rules.length ? createHash('sha256').update(JSON.stringify(rules)).digest('base64url').slice(0, 16) : null;
  return { rules, alternatives, longestPhrase, version };
}

function phrases(side: string, fail: (what: string) => never): string[] {
  const out = side.split(',').map((p) => p.trim().split(/\s+/).map(normaliseWord).filter(Boolean).join(' '));
  if (out.some((p) => p === '')) fail('has an empty phrase');
  if (out.length > MAX_PHRASES_PER_RULE) fail(`has more than ${MAX_PHRASES_PER_RULE} phrases on one side`);
  for (const p of out) {
    const words = p.split(' ');
    if (words.length > MAX_WORDS_PER_PHRASE) fail(`phrase ${JSON.stringify(p.slice(0, 40))} has more than ${MAX_WORDS_PER_PHRASE} words`);
    if (words.some((w) => FORBIDDEN.test(w))) fail(`phrase ${JSON.stringify(p.slice(0, 40))} holds a query operator ("+|()*\\~ or a leading -)`);
  }
  return out;
}
