import type { IndexSpec } from '../../config/pipeline';
import { fieldPaths, nestedPath, type FieldPath } from './field-paths';
import { nestedQuery } from './nested';
import { checkQuery } from './query-text';
import { rankedQuery, rankingOf } from './ranking';
import { expandSynonyms } from '../synonyms/expand';
import type { CompiledSynonyms } from '../synonyms/rules';

type Query = Record<string, unknown>;

/**
 * The full-text part of a search: `q` over every searchable field, weighted by its boost. User
 * text only ever reaches `simple_query_string` and `multi_match`.
 *
 * Searchable fields are grouped by the document they live in: the root (its own fields and those
 * of object relations, which are part of it) and each nested relation (its objects are hidden
 * documents of their own, reached by a `nested` query). A root matches when all words of `q` are
 * found in one group: in the root's fields, or in one object of a nested relation (`toy car`
 * finds the order one of whose items is a toy car). The groups are alternatives (bool should),
 * each scored as it would be alone, the best object of a nested relation counting.
 */
export interface SearchGroup {
  /** The nested relation of this group's fields; undefined for the root document. */
  nested?: string;
  fields: FieldPath[];
}

export function searchGroups(index: IndexSpec): SearchGroup[] {
  const groups = new Map<string | undefined, FieldPath[]>([[undefined, []]]);
  for (const f of fieldPaths(index)) {
    if (!f.spec.searchable) continue;
    const at = nestedPath(f);
    groups.set(at, [...(groups.get(at) ?? []), f]);
  }
  return [...groups].filter(([, fields]) => fields.length).map(([nested, fields]) => ({ ...(nested === undefined ? {} : { nested }), fields }));
}

/** Prefix of the inner hits that carry a nested relation's highlights (merged by `mergeHighlights`). */
export const INNER_HIGHLIGHT = 'highlight:';

/**
 * `q` over the index's searchable fields, with the index's synonyms expanded in every group;
 * with `highlight`, nested relations bring their highlights as inner hits.
 */
export function textQuery(index: IndexSpec, q: string, fuzzy: boolean, highlight: boolean, synonyms?: CompiledSynonyms): Query {
  const parts = searchGroups(index).map((g) => {
    const text = groupQuery(index, g.fields, q, fuzzy, synonyms);
    if (g.nested === undefined) return text;
    const hl = highlight ? highlightOf(g.fields, q, synonyms) : undefined;
    return nestedQuery(g.nested, text, 'max', hl && { name: `${INNER_HIGHLIGHT}${g.nested}`, size: 3, _source: false, highlight: hl });
  });
  return parts.length === 1 ? (parts[0] as Query) : { bool: { should: parts, minimum_should_match: 1 } };
}

/**
 * A plain query (no operators; parentheses, + and a lone dash allowed, query-text.ts) is ranked by the index's rules (ranking.ts): exact words before
 * typos (when typo tolerance is on), the field of higher boost first, the whole field equal to
 * the query first. A query with operators keeps simple_query_string's own scoring (BM25, with
 * the config's boosts, all words required): its clauses are the caller's to weigh, and a fuzzy
 * clause would ignore them (e.g. bring back a `-excluded` word).
 */
function groupQuery(index: IndexSpec, fields: FieldPath[], q: string, fuzzy: boolean, synonyms: CompiledSynonyms | undefined): Query {
  const exact = wordsQuery(fields, q, synonyms);
  if (!checkQuery(q).rankable) return exact;
  return rankedQuery(fields, q, exact, { fuzzy, ranking: rankingOf(index) });
}

/**
 * The exact words, with the index's synonyms expanded into should-groups when a rule applies to
 * a plain query (synonyms/expand.ts); queries with operators are taken as written. The fuzzy
 * alternative stays on the words typed: a typo of a word is not a synonym of it.
 */
function wordsQuery(fields: FieldPath[], q: string, synonyms: CompiledSynonyms | undefined): Query {
  const expanded = synonyms && checkQuery(q).plain ? expandSynonyms(q, synonyms, (text, boost) => exactQuery(fields, text, boost)) : undefined;
  return expanded ?? exactQuery(fields, q);
}

function exactQuery(fields: FieldPath[], q: string, boost?: number): Query {
  return { simple_query_string: { query: q, fields: boosted(fields), default_operator: 'and', lenient: true, flags: 'AND|OR|NOT|PHRASE|PRECEDENCE|PREFIX|ESCAPE|WHITESPACE', ...(boost === undefined ? {} : { boost }) } };
}

function boosted(fields: FieldPath[]): string[] {
  return fields.map((f) => (f.spec.boost === 1 ? f.path : `${f.path}^${f.spec.boost}`));
}

/**
 * Highlighting of the text fields among `fields` (keywords are shown whole), or undefined if
 * there are none. Their exact words are highlighted, and the synonyms those expand to.
 */
export function highlightOf(fields: FieldPath[], q: string, synonyms?: CompiledSynonyms): Query | undefined {
  const text = fields.filter((f) => f.spec.type === 'text');
  if (!text.length) return undefined;
  return {
    fields: Object.fromEntries(text.map((f) => [f.path, {}])),
    pre_tags: ['<mark>'],
    post_tags: ['</mark>'],
    number_of_fragments: 3,
    // Fragments are HTML for the caller's page: escape the document's own text (a title holding
    // `<img onerror=…>` would otherwise run in it), so only our <mark> tags are markup.
    encoder: 'html',
    // Highlight the exact words only: re-running the fuzzy clause per hit and field made a
    // search 5–10× slower on the demo data (measured: 60 ms → 7 ms for q=dragon). A hit found
    // through a typo alone therefore comes back without highlight; one through a synonym is.
    highlight_query: wordsQuery(text, q, synonyms),
  };
}

type InnerHits = Record<string, { hits?: { hits?: Array<{ highlight?: Record<string, string[]> }> } }>;

/**
 * A hit's highlights: the root document's, plus those of the matching objects of nested
 * relations (their inner hits, keyed by the field's full path, e.g. `items.product.title`).
 */
export function mergeHighlights(own: Record<string, string[]> | undefined, inner: InnerHits | undefined): Record<string, string[]> | undefined {
  const out: Record<string, string[]> = { ...own };
  for (const [name, res] of Object.entries(inner ?? {})) {
    if (!name.startsWith(INNER_HIGHLIGHT)) continue;
    for (const hit of res.hits?.hits ?? []) {
      for (const [field, fragments] of Object.entries(hit.highlight ?? {})) out[field] = [...(out[field] ?? []), ...fragments];
    }
  }
  return Object.keys(out).length ? out : undefined;
}
