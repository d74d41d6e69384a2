import { isExactAsNumber, MAX_JSON_DEPTH, parseJsonExact } from './exact-json';

describe('json values without silent damage', () => {
  it('parses ordinary JSON as JSON.parse does', () => {
    const text = '{"a":[1,2.5,-3,1e3,true,null],"s":"12345678901234567890 \\" [ {","n":{"":0,"a.b":-0.5}}';
    expect(parseJsonExact(text)).toEqual(JSON.parse(text));
  });
  it('keeps numbers a double cannot hold as their exact text, and leaves digits inside strings alone', () => {
    expect(parseJsonExact('{"big":12345678901234567890123,"s":"9007199254740993","x":[9007199254740993,0.1,1e400,-1e-400,5e-324]}')).toEqual({
      big: '12345678901234567890123',
      s: '9007199254740993',
      x: ['9007199254740993', 0.1, '1e400', '-1e-400', 5e-324],
    });
  });
  it('decides exactness by decimal value, not by spelling', () => {
    for (const ok of ['9007199254740991', '-9007199254740992', '0.30000000000000004', '1.5e300', '100000000000000000000', '123456789012345.0']) expect([ok, isExactAsNumber(ok)]).toEqual([ok, true]);
    for (const bad of ['9007199254740993', '0.30000000000000004444', '1e400', '123456789012345678']) expect([bad, isExactAsNumber(bad)]).toEqual([bad, false]);
  });
  it('keeps a value nested deeper than the limit as its text, so no JSON.stringify downstream overflows', () => {
    const deep = '['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1);
    expect(parseJsonExact(deep)).toBe(deep);
    const ok = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    expect(JSON.stringify(parseJsonExact(ok))).toBe(ok);
  });
});
