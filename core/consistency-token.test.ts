import { decodeConsistencyToken, encodeConsistencyToken, tokenSatisfied } from './consistency-token';

describe('consistency token', () => {
  const big = 2n ** 63n - 5n; // above 2^53: must survive exactly

  it('round-trips positions exactly, one per topic and partition with the highest LSN', () => {
    const token = encodeConsistencyToken([
      { topic: 'p.public.a', partition: 1, lsn: 10n },
      { topic: 'p.public.a', partition: 1, lsn: big },
      { topic: 'p.public.a', partition: 0, lsn: 7n },
    ]);
    expect(token.startsWith('ct1.')).toBe(true);
    expect(decodeConsistencyToken(token)).toEqual([
      { topic: 'p.public.a', partition: 0, lsn: 7n },
      { topic: 'p.public.a', partition: 1, lsn: big },
    ]);
  });

  it.each([
    ['no prefix', 'abc'],
    ['not JSON', 'ct1.!!!'],
    ['not a list', `ct1.${Buffer.from('{}').toString('base64url')}`],
    ['bad entry', `ct1.${Buffer.from('[["t",0]]').toString('base64url')}`],
    ['negative partition', `ct1.${Buffer.from('[["t",-1,"5"]]').toString('base64url')}`],
    ['numeric lsn', `ct1.${Buffer.from('[["t",0,5]]').toString('base64url')}`],
    ['too long', `ct1.${'a'.repeat(9000)}`],
  ])('refuses a token with %s, saying what to pass', (_why, token) => {
    expect(() => decodeConsistencyToken(token)).toThrow(expect.objectContaining({ code: 'CONSISTENCY_TOKEN_INVALID', retriable: false }));
  });

  it('is satisfied only when every partition of the topic reached its LSN; other topics do not matter', () => {
    const token = decodeConsistencyToken(encodeConsistencyToken([{ topic: 't', partition: 0, lsn: 5n }, { topic: 't', partition: 2, lsn: big }, { topic: 'other', partition: 0, lsn: 99n }]));
    expect(tokenSatisfied(token, 't', (p) => (p === 0 ? 5n : p === 2 ? big : undefined))).toBe(true);
    expect(tokenSatisfied(token, 't', (p) => (p === 0 ? 5n : p === 2 ? big - 1n : undefined))).toBe(false);
    expect(tokenSatisfied(token, 't', (p) => (p === 0 ? 5n : undefined))).toBe(false);
    expect(tokenSatisfied(token, 'unrelated', () => undefined)).toBe(true);
  });
});
