import { LruCache } from './lru';

describe('LruCache', () => {
  it('evicts the least recently used entry once the entry bound is passed', () => {
    const c = new LruCache<string>(2, 1_000);
    c.set('a', 'A', 1, 60_000);
    c.set('b', 'B', 1, 60_000);
    expect(c.get('a')).toBe('A'); // a is now the most recently used
    c.set('c', 'C', 1, 60_000);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe('A');
    expect(c.get('c')).toBe('C');
    expect(c.size).toBe(2);
  });

  it('keeps the byte total under its bound, evicting as many old entries as needed', () => {
    const c = new LruCache<string>(100, 10);
    c.set('a', 'A', 4, 60_000);
    c.set('b', 'B', 4, 60_000);
    c.set('c', 'C', 7, 60_000);
    expect(c.get('a')).toBeUndefined();
    expect(c.get('b')).toBeUndefined();
    expect(c.get('c')).toBe('C');
    expect(c.bytes).toBe(7);
  });

  it('does not keep a value larger than the whole budget, nor anything with zero entries', () => {
    const c = new LruCache<string>(10, 10);
    c.set('big', 'x', 11, 60_000);
    expect(c.get('big')).toBeUndefined();
    expect(c.bytes).toBe(0);
    const off = new LruCache<string>(0, 10);
    off.set('a', 'A', 1, 60_000);
    expect(off.get('a')).toBeUndefined();
  });

  it('replacing a key counts its bytes once', () => {
    const c = new LruCache<string>(10, 100);
    c.set('a', 'A', 30, 60_000);
    c.set('a', 'A2', 40, 60_000);
    expect(c.bytes).toBe(40);
    expect(c.get('a')).toBe('A2');
  });

  it('forgets an entry after its lifetime', () => {
    let now = 1_000;
    const c = new LruCache<string>(10, 100, () => now);
    c.set('a', 'A', 1, 500);
    now = 1_499;
    expect(c.get('a')).toBe('A');
    now = 1_500;
    expect(c.get('a')).toBeUndefined();
    expect(c.bytes).toBe(0);
  });
});
