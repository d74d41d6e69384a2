import type { CompiledSynonyms } from './rules';
import { normaliseWord } from './rules';

/**
 * Query-time synonym expansion for a plain query (no operators): the words are scanned left to
 * right, the longest phrase with a rule wins, and each such phrase becomes a should-group of
 * itself and its alternatives; the other words are kept as they are. All segments stay required,
 * like the words of `default_operator: and`. Returns undefined when no rule applies, so a query
 * without synonyms keeps its usual shape.
 *
 * `toClause` renders one segment's text (simple_query_string over the searchable fields);
 * alternatives of several words are quoted as phrases.
 */
export function expandSynonyms(q: string, synonyms: CompiledSynonyms, toClause: (text: string, boost?: number) => Record<string, unknown>): Record<string, unknown> | undefined {
  if (!synonyms.alternatives.size) return undefined;
  const words = q.trim().split(/\s+/).filter(Boolean);
  const segments: Array<{ words: string[]; alternatives?: readonly string[] }> = [];
  let plain: string[] = [];
  let applied = false;
  for (let i = 0; i < words.length; ) {
    let hit: { n: number; alternatives: readonly string[] } | undefined;
    for (let n = Math.min(synonyms.longestPhrase, words.length - i); n >= 1 && !hit; n--) {
      const key = words.slice(i, i + n).map(normaliseWord).join(' ');
      const alternatives = synonyms.alternatives.get(key);
      if (alternatives?.length) hit = { n, alternatives };
    }
    if (!hit) {
      plain.push(words[i] as string);
      i++;
      continue;
    }
    if (plain.length) segments.push({ words: plain });
    plain = [];
    segments.push({ words: words.slice(i, i + hit.n), alternatives: hit.alternatives });
    applied = true;
    i += hit.n;
  }
  if (plain.length) segments.push({ words: plain });
  if (!applied) return undefined;
  const must = segments.map((s) => {
    if (!s.alternatives) return toClause(s.words.join(' '));
    // An alternative ranks a little below the word typed: a document holding that word is the closer match.
    const alts = s.alternatives.map((a) => toClause(a.includes(' ') ? `"${a}"` : a, ALTERNATIVE_BOOST));
    return { bool: { should: [toClause(s.words.join(' ')), ...alts], minimum_should_match: 1 } };
  });
  return must.length === 1 ? (must[0] as Record<string, unknown>) : { bool: { must } };
}

export const ALTERNATIVE_BOOST = 0.9;
