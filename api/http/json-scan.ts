/**
 * What JSON.parse does not say about a body: how deep it nests and whether an object repeats a
 * key. JSON.parse keeps the last of repeated keys (`{"size": 5, "size": 500}` would silently
 * search with 500, where a repeated query parameter is refused), and its reviver recurses, so a
 * body nested some thousand levels deep failed with "Maximum call stack size exceeded".
 * One pass over the text, iterative, so depth costs no stack.
 */
export type JsonScan = { kind: 'ok' } | { kind: 'too_deep'; maxDepth: number } | { kind: 'duplicate'; key: string; path: string };

interface Level {
  object: boolean;
  keys: Set<string>;
  expectKey: boolean;
  name: string;
}

export function scanJson(text: string, maxDepth: number): JsonScan {
  const stack: Level[] = [];
  let lastKey = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const end = stringEnd(text, i);
      const top = stack[stack.length - 1];
      if (top?.object && top.expectKey) {
        const key = decodeKey(text.slice(i, end + 1));
        if (top.keys.has(key)) return { kind: 'duplicate', key, path: [...stack.slice(1).map((l) => l.name), key].join('.') };
        top.keys.add(key);
        top.expectKey = false;
        lastKey = key;
      }
      i = end;
    } else if (c === '{' || c === '[') {
      if (stack.length >= maxDepth) return { kind: 'too_deep', maxDepth };
      stack.push({ object: c === '{', keys: new Set(), expectKey: c === '{', name: lastKey });
    } else if (c === '}' || c === ']') stack.pop();
    else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.object) top.expectKey = true;
    }
  }
  return { kind: 'ok' };
}

/** The index of the closing quote of the string opening at `start` (or the text's end). */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return text.length;
}

/** `"a\u0062"` and `"ab"` are the same key. Invalid text is left to JSON.parse to report. */
function decodeKey(token: string): string {
  try {
    return JSON.parse(token) as string;
  } catch {
    return token;
  }
}
