import { formatLsn, lsnToDecimal, parseLsn, decimalLsnBelow } from './lsn';

describe('LSN', () => {
  it('round-trips positions above 2^53 exactly', () => {
    const text = 'FFFFFFFF/FFFFFFFE';
    const v = parseLsn(text);
    expect(v).toBe(0xfffffffffffffffen);
    expect(v > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(formatLsn(v)).toBe(text);
    expect(lsnToDecimal(text)).toBe('18446744073709551614');
  });
  it('orders by value, not by text', () => {
    expect(parseLsn('A/0') > parseLsn('9/FFFFFFFF')).toBe(true);
  });
  it('rejects text that is not an LSN', () => {
    expect(() => parseLsn('12345')).toThrow(/not an LSN/);
  });
});

describe('decimalLsnBelow', () => {
  it('orders decimal LSNs like BigInt does, without making one', () => {
    const pairs: Array<[string, string]> = [['9', '10'], ['100', '99'], ['18446744073709551615', '18446744073709551614'], ['5', '5'], ['123', '124']];
    for (const [a, b] of pairs) expect(decimalLsnBelow(a, b)).toBe(BigInt(a) < BigInt(b));
  });
});
