import { BodyTooLargeError, readLines, type Line } from './line-reader';

async function* chunks(...parts: string[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield Buffer.from(p);
}

async function all(body: AsyncIterable<Buffer>, maxBodyBytes = 1_000, maxLineBytes = 100): Promise<Array<{ n: number; text?: string; tooLong?: number }>> {
  const out: Array<{ n: number; text?: string; tooLong?: number }> = [];
  for await (const l of readLines(body, { maxBodyBytes, maxLineBytes }) as AsyncIterable<Line>) {
    out.push('bytes' in l ? { n: l.n, text: l.bytes.toString() } : { n: l.n, tooLong: l.tooLongBytes });
  }
  return out;
}

describe('readLines', () => {
  it('splits lines across chunk boundaries, numbers blank lines, strips CR and keeps a last line without newline', async () => {
    expect(await all(chunks('{"a"', ':1}\n\n{"b":2}\r', '\n{"c"', ':3}'))).toEqual([
      { n: 1, text: '{"a":1}' },
      { n: 2, text: '' },
      { n: 3, text: '{"b":2}' },
      { n: 4, text: '{"c":3}' },
    ]);
  });

  it('reports a line over the line limit by its length without holding it, and goes on with the next', async () => {
    const long = 'x'.repeat(250);
    expect(await all(chunks(long.slice(0, 120), long.slice(120) + '\nok\n'))).toEqual([
      { n: 1, tooLong: 250 },
      { n: 2, text: 'ok' },
    ]);
  });

  it('throws BodyTooLargeError as soon as the body passes its limit', async () => {
    const seen: number[] = [];
    const read = async (): Promise<void> => {
      for await (const l of readLines(chunks('a\n', 'b\n', 'c'.repeat(20)), { maxBodyBytes: 10, maxLineBytes: 100 })) seen.push(l.n);
    };
    await expect(read()).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(seen).toEqual([1, 2]);
  });

  it('keeps multi-byte characters split across chunks intact', async () => {
    const bytes = Buffer.from('{"t":"Pokémon 🎮"}\n');
    async function* split(): AsyncGenerator<Buffer> {
      for (let i = 0; i < bytes.length; i += 3) yield bytes.subarray(i, i + 3);
    }
    expect(await all(split())).toEqual([{ n: 1, text: '{"t":"Pokémon 🎮"}' }]);
  });
});
