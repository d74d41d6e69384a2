import { loadStackConfig, StackConfigError } from '../config/stack-config';

const host = { uid: 0, homeDir: '/home/dev', repoRoot: '/repo' };

describe('loadStackConfig', () => {
  it('defaults to .stack in the repo and the machine-wide cache as root', () => {
    const c = loadStackConfig({}, host);
    expect(c).toMatchObject({ stackDir: '/repo/.stack', cacheDir: '/var/cache/search-pipeline', isRoot: true, startTimeoutMs: 180_000, stopGraceMs: 20_000, esUser: 'search-pipeline-es', javaHome: undefined });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('uses the per-user cache (XDG first) when not root', () => {
    expect(loadStackConfig({}, { ...host, uid: 1000 }).cacheDir).toBe('/home/dev/.cache/search-pipeline');
    expect(loadStackConfig({ XDG_CACHE_HOME: '/xdg' }, { ...host, uid: 1000 }).cacheDir).toBe('/xdg/search-pipeline');
  });

  it('resolves relative folders against the repo root and treats blank values as unset', () => {
    const c = loadStackConfig({ STACK_DIR: 'tmp/st', STACK_CACHE_DIR: '  ', STACK_START_TIMEOUT_MS: '5000' }, host);
    expect(c.stackDir).toBe('/repo/tmp/st');
    expect(c.cacheDir).toBe('/var/cache/search-pipeline');
    expect(c.startTimeoutMs).toBe(5000);
  });

  it.each([
    ['STACK_START_TIMEOUT_MS', '12s'],
    ['STACK_START_TIMEOUT_MS', '0'],
    ['STACK_STOP_GRACE_MS', '-5'],
    ['STACK_ES_USER', 'Root User'],
    ['STACK_JAVA_HOME', 'relative/jdk'],
  ])('rejects %s=%s with an error naming the variable', (name, value) => {
    expect(() => loadStackConfig({ [name]: value }, host)).toThrow(StackConfigError);
    expect(() => loadStackConfig({ [name]: value }, host)).toThrow(new RegExp(`^${name}: expects`));
  });

  it('refuses a cache inside the state folder, which `rm -rf .stack` would wipe', () => {
    expect(() => loadStackConfig({ STACK_CACHE_DIR: '/repo/.stack/cache' }, host)).toThrow(/^STACK_CACHE_DIR: expects a folder outside/);
  });
});
