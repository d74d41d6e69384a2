/**
 * Judged queries generated from the data, with a seeded generator so every run asks the same:
 *   exact   an item's name as typed; relevant: the items of that name (case and spacing aside),
 *           which the query cannot tell apart
 *   typo    the name with one edit (substitution, deletion, insertion or transposition) in one
 *           word of 4+ letters; a third of them in the word's first letter; relevant as above
 *   prefix  the first 1–10 characters of a name, as typed so far, for suggestions
 */
export interface Judged {
  kind: 'exact' | 'typo';
  q: string;
  /** The normalised name (nameKey) of the relevant items. */
  key: string;
  firstLetter: boolean;
}

export interface Item {
  id: string;
  name: string;
}

/** Names compared as the exact sub-field holds them: lower-cased, runs of spaces as one. */
export function nameKey(s: string): string {
  return s.toLowerCase().replace(/\s+/g, ' ').trim();
}

/** What was typed, compared for "starts with": as nameKey, but a trailing space counts. */
export function typedKey(s: string): string {
  return s.toLowerCase().replace(/\s+/g, ' ').trimStart();
}

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

export function judgedQueries(items: readonly Item[], n: number, seed: number): { exact: Judged[]; typo: Judged[]; prefix: string[] } {
  const rand = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)] as T;
  const named = items.filter((i) => nameKey(i.name) !== '');
  const exact = Array.from({ length: n }, () => {
    const it = pick(named);
    return { kind: 'exact' as const, q: it.name, key: nameKey(it.name), firstLetter: false };
  });
  const typoable = named.filter((i) => /(?:^|[^A-Za-z])[A-Za-z]{4,}/.test(i.name));
  const typo = Array.from({ length: n }, (_, k) => {
    const it = pick(typoable);
    const firstLetter = k % 3 === 0;
    return { kind: 'typo' as const, q: withTypo(it.name, firstLetter, rand), key: nameKey(it.name), firstLetter };
  });
  const prefix = Array.from({ length: n }, () => {
    const name = pick(named).name.trimStart();
    return name.slice(0, 1 + Math.floor(rand() * Math.min(10, name.length)));
  });
  return { exact, typo, prefix };
}

/** One edit in one word of 4+ ASCII letters: at its first letter, or anywhere in it. */
export function withTypo(name: string, firstLetter: boolean, rand: () => number): string {
  const words = [...name.matchAll(/[A-Za-z]{4,}/g)].filter((m) => m.index === 0 || !/[A-Za-z]/.test(name[m.index - 1] ?? ''));
  const w = words[Math.floor(rand() * words.length)]!;
  const at = w.index + (firstLetter ? 0 : Math.floor(rand() * w[0].length));
  const other = (c: string) => {
    const l = LETTERS.replace(c.toLowerCase(), '');
    return l[Math.floor(rand() * l.length)]!;
  };
  const ops = ['substitute', 'delete', 'insert', 'transpose'] as const;
  for (;;) {
    const op = ops[Math.floor(rand() * ops.length)]!;
    const c = name[at]!;
    let out: string;
    if (op === 'substitute') out = name.slice(0, at) + other(c) + name.slice(at + 1);
    else if (op === 'delete') out = name.slice(0, at) + name.slice(at + 1);
    else if (op === 'insert') out = name.slice(0, at) + other(c) + name.slice(at);
    else {
      // Swap with the next letter of the word; a word's last letter swaps with the one before.
      const j = at + 1 < w.index + w[0].length ? at : at - 1;
      out = name.slice(0, j) + name[j + 1] + name[j] + name.slice(j + 2);
    }
    if (nameKey(out) !== nameKey(name)) return out;
  }
}
