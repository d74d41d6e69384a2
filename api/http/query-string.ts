import { badRequest } from '../errors';

/**
 * Koa's query parser replaces percent-encoded bytes that are not UTF-8 (`q=%FF`) by U+FFFD, so
 * such a search quietly ran for "�" while the same bytes in a JSON body were refused. Each name
 * and value is decoded strictly here first; a `%` not followed by two hex digits is a literal,
 * as the parser reads it.
 */
export function checkQueryStringUtf8(raw: string): void {
  if (!raw.includes('%')) return;
  for (const part of raw.split('&')) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const decodedName = strictDecode(name);
    if (decodedName === undefined) throw notUtf8('a parameter name');
    if (eq >= 0 && strictDecode(part.slice(eq + 1)) === undefined) throw notUtf8(decodedName);
  }
}

function strictDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' ').replace(/%(?![0-9a-fA-F]{2})/g, '%25'));
  } catch {
    return undefined;
  }
}

const notUtf8 = (what: string) =>
  badRequest('PARAM_INVALID_CHARACTERS', `${what.slice(0, 60)} is not valid UTF-8 once percent-decoded; percent-encode text as UTF-8 bytes (é is %C3%A9)`);
