import type { IndexSpec } from '../../config/pipeline';
import { fieldPaths, nestedPath, type FieldPath } from './field-paths';
import { nestedQuery } from './nested';
import { checkQuery } from './query-text';
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
    const text = groupQuery(g.fields, q, fuzzy, synonyms);
    if (g.nested === undefined) return text;
    const hl = highlight ? highlightOf(g.fields, q, synonyms) : undefined;
    return nestedQuery(g.nested, text, 'max', hl && { name: `${INNER_HIGHLIGHT}${g.nested}`, size: 3, _source: false, highlight: hl });
  });
  return parts.length === 1 ? (parts[0] as Query) : { bool: { should: parts, minimum_should_match: 1 } };
}

/**
 * Exact words score through simple_query_string (with the config's boosts, all words required).
 * With typo tolerance on and a plain query (no operators, which a fuzzy clause would ignore, e.g.
 * bringing back a `-excluded` word), a fuzzy multi_match is added as an alternative at a lower
 * weight, so "zelad" still finds Zelda while exact matches rank first.
 */
function groupQuery(fields: FieldPath[], q: string, fuzzy: boolean, synonyms: CompiledSynonyms | undefined): Query {
  const exact = wordsQuery(fields, q, synonyms);
  if (!fuzzy || !checkQuery(q).plain) return exact;
  const typo = { multi_match: { query: q, fields: boosted(fields), type: 'best_fields', operator: 'and', fuzziness: 'AUTO', prefix_length: 1, max_expansions: 20, lenient: true, boost: 0.3 } };
  return { bool: { should: [exact, typo], minimum_should_match: 1 } };
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
