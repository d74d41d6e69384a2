import { distance, sameOffsets } from './topic-offsets';

describe('offset arithmetic of the reindex', () => {
  it('counts messages still to read per partition, never negative', () => {
    const from = { t: { '0': '5', '1': '10' } };
    const to = { t: { '0': '8', '1': '9', '2': '4' } };
    expect(distance(from, to)).toBe(3 + 0 + 4);
    expect(distance(to, to)).toBe(0);
  });
  it('compares cuts exactly, offsets above 2^53 included', () => {
    expect(sameOffsets({ t: { '0': '9007199254740993' } }, { t: { '0': '9007199254740993' } })).toBe(true);
    expect(sameOffsets({ t: { '0': '9007199254740993' } }, { t: { '0': '9007199254740992' } })).toBe(false);
  });
});
