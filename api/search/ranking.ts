import type { IndexSpec, RankingRule, RankingSpec } from '../../config/pipeline';
import { DEFAULT_RULES } from '../../config/pipeline-ranking';
import { wholeValueFieldName } from '../../core/field-names';
import type { FieldPath } from './field-paths';

type Query = Record<string, unknown>;

/**
 * Ranking as a ladder of rules (docs/search.md), after Typesense and Meilisearch: BM25 adds the
 * scores of every field and every repeat of a word, so a longer name that repeats the query in
 * its notes outranked the exact name. Here each way a document can match is a clause of fixed
 * score, and a document scores its best clause (dis_max, nothing adds up):
 *
 *   typo       the words as typed (1) or only within an edit distance, first letter included (0)
 *   attribute  the field matched: the highest boost ranks first (1..n), several fields together 0
 *   exactness  the whole field equals the query (3), starts with it (2), holds it as a phrase (1),
 *              holds its words (0)
 *
 * A clause's score is its levels read as one number in the order of the index's rules (the first
 * rule the most significant digit), so a rule only orders what the rules before it left equal.
 * Documents still equal are ordered by the popularity field (a sort key after the score,
 * query-builder.ts) or, without one, by BM25 scaled below one level (TIE_BREAK).
 */
export interface RankLevels {
  typo: 0 | 1;
  attribute: number;
  exactness: 0 | 1 | 2 | 3;
}

export interface RankedOptions {
  fuzzy: boolean;
  ranking: RankingSpec;
}

/**
 * Weight of the BM25 tie-breaker. Every level is a whole number apart; BM25 over unboosted fields
 * stays below 2,000 even for 32 rare words (32 × idf ≤ 20 × 2.2), so this keeps it inside a level.
 */
export const TIE_BREAK = 5e-4;
const EXACTNESS_LEVELS = 4;

export function rankingOf(index: IndexSpec): RankingSpec {
  return index.ranking ?? { rules: DEFAULT_RULES };
}

/**
 * A plain query (no operators) over one group of fields. `words` is the group's query of the
 * exact words across its fields (with synonyms), which still decides what matches without typos.
 */
export function rankedQuery(fields: readonly FieldPath[], q: string, words: Query, opts: RankedOptions): Query {
  const attribute = attributeLevels(fields);
  const score = scorer(opts.ranking.rules, attribute.count);
  const text = wholeValue(q);
  const multiWord = text.includes(' ');
  const clauses: Query[] = [fixed(words, score({ typo: 1, attribute: 0, exactness: 0 }))];
  for (const f of fields) {
    // The whole value one typo away is the costliest clause (a fuzzy automaton over every value
    // of the field): only the fields of the highest boost, the index's names, get it.
    const typoValue = opts.fuzzy && attribute.of(f) === attribute.count;
    const level = (typo: 0 | 1, exactness: RankLevels['exactness']) => score({ typo, attribute: attribute.of(f), exactness });
    const whole = wholeValueFieldName({ name: f.path, type: f.spec.type });
    if (f.spec.type === 'keyword') {
      // A keyword is its whole value, kept as written (codes, short names).
      clauses.push(fixed({ term: { [whole]: q.trim() } }, level(1, 3)));
      // A code or short name one typo away; a query of several words is no typo of one value.
      if (typoValue || (opts.fuzzy && !multiWord)) clauses.push(fixed(fuzzyValue(whole, q.trim()), level(0, 3)));
      continue;
    }
    const allWords = (extra: Query = {}): Query => ({ match: { [f.path]: { query: q, operator: 'and', ...extra } } });
    clauses.push(fixed({ term: { [whole]: text } }, level(1, 3)));
    clauses.push(fixed({ bool: { filter: [{ prefix: { [whole]: text } }, allWords()] } }, level(1, 2)));
    if (multiWord) clauses.push(fixed({ match_phrase: { [f.path]: q } }, level(1, 1)));
    clauses.push(fixed(allWords(), level(1, 0)));
    // The whole value one typo away finds a name whose short words were mistyped (AUTO lets
    // a 1–2 letter word have none), and ranks it above names merely holding the words.
    if (typoValue) clauses.push(fixed(fuzzyValue(whole, text), level(0, 3)));
    // Every word within AUTO edits (none for 1–2 letters, 1 up to 5, then 2), the first letter
    // as open to a typo as any other.
    if (opts.fuzzy) clauses.push(fixed(allWords({ fuzziness: 'AUTO', prefix_length: 0, max_expansions: 20 }), level(0, 0)));
  }
  const ranked = { dis_max: { queries: clauses, tie_breaker: 0 } };
  if (opts.ranking.popularity) return ranked;
  return { bool: { must: [ranked], should: [{ simple_query_string: { query: q, fields: fields.map((f) => f.path), default_operator: 'and', lenient: true, flags: 'WHITESPACE', boost: TIE_BREAK } }] } };
}

/**
 * The composite score of a clause: its levels as the digits of one number, most significant
 * first in the order of `rules`; rules left out count nothing. 1 is added so no clause scores 0.
 */
export function scorer(rules: readonly RankingRule[], attributeCount: number): (l: RankLevels) => number {
  const radix: Record<RankingRule, number> = { typo: 2, attribute: attributeCount + 1, exactness: EXACTNESS_LEVELS };
  return (l) => 1 + rules.reduce((acc, rule) => acc * radix[rule] + l[rule], 0);
}

/** Fields of equal boost share a level; the highest boost gets the highest (count), the lowest 1. */
export function attributeLevels(fields: readonly FieldPath[]): { count: number; of: (f: FieldPath) => number } {
  const boosts = [...new Set(fields.map((f) => f.spec.boost))].sort((a, b) => a - b);
  return { count: boosts.length, of: (f) => boosts.indexOf(f.spec.boost) + 1 };
}

/** The query as the `.exact` sub-fields hold values: lower-cased, one space between words. */
export function wholeValue(q: string): string {
  return q.trim().replace(/\s+/g, ' ').toLowerCase();
}

function fixed(filter: Query, boost: number): Query {
  return { constant_score: { filter, boost } };
}

/**
 * One edit (a transposition counts as one) anywhere in a value of 3 characters or more:
 * `AUTO:3,100000` never reaches AUTO's two edits, which cost several times as much on long values.
 */
function fuzzyValue(field: string, value: string): Query {
  return { fuzzy: { [field]: { value, fuzziness: 'AUTO:3,100000', prefix_length: 0, max_expansions: 50, transpositions: true } } };
}
