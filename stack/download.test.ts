import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildOnce } from './download';

describe('buildOnce', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-dl-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('builds in a temp folder, renames it into place, and does not build twice', async () => {
    const final = path.join(dir, 'kafka-x');
    const build = jest.fn(async (tmp: string) => {
      fs.writeFileSync(path.join(tmp, 'a.jar'), 'jar');
    });
    await expect(buildOnce(final, build)).resolves.toBe(final);
    await buildOnce(final, build);
    expect(build).toHaveBeenCalledTimes(1);
    expect(fs.readdirSync(dir)).toEqual(['kafka-x']);
    expect(fs.statSync(final).mode & 0o777).toBe(0o755);
  });

  it('moves the path the build returns, e.g. a single downloaded file', async () => {
    const final = path.join(dir, 'es.zip');
    await buildOnce(final, async (tmp) => {
      fs.writeFileSync(path.join(tmp, 'downloaded.zip'), 'zip');
      return path.join(tmp, 'downloaded.zip');
    });
    expect(fs.readFileSync(final, 'utf8')).toBe('zip');
    expect(fs.readdirSync(dir)).toEqual(['es.zip']);
  });

  it('leaves nothing that could pass for complete when the build fails', async () => {
    const final = path.join(dir, 'kafka-x');
    await expect(buildOnce(final, async (tmp) => {
      fs.writeFileSync(path.join(tmp, 'half.jar'), 'ha');
      throw new Error('network down');
    })).rejects.toThrow('network down');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('clears temp folders left by a killed download', async () => {
    const stale = path.join(dir, '.kafka-x.tmp-999999999-abc');
    fs.mkdirSync(stale);
    await buildOnce(path.join(dir, 'kafka-x'), async () => undefined);
    expect(fs.existsSync(stale)).toBe(false);
  });
});
