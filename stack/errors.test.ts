import { formatParagraph, StackError, StackUpError } from './errors';
import { pickErrorLine } from './launch';
import { parseJavaMajor } from './java';
import { parseServiceList } from './types';

describe('StackError', () => {
  it('is one paragraph: service, what, log, what to do', () => {
    const err = new StackError({ code: 'PORT_TAKEN', service: 'postgres', what: 'port 5 is taken\nby x', logPath: '/s/logs/postgres.log', hint: 'Stop it' });
    expect(err.message).toBe('postgres: port 5 is taken by x. Log: /s/logs/postgres.log. Stop it.');
    expect(err.message).not.toContain('\n');
    expect(err.code).toBe('PORT_TAKEN');
  });

  it('leaves out the log when there is none and keeps final punctuation', () => {
    expect(formatParagraph({ service: 'stack', what: 'no java!', hint: 'Install it.' })).toBe('stack: no java! Install it.');
  });

  it('merges failures with one cause into one paragraph', () => {
    const mk = (service: 'kafka' | 'elasticsearch' | 'redis', what: string): StackError => new StackError({ code: 'MISSING_DEPENDENCY', service, what, hint: 'Fix' });
    const err = new StackUpError([mk('kafka', 'no java'), mk('elasticsearch', 'no java'), mk('redis', 'no redis')]);
    expect(err.message).toBe('kafka, elasticsearch: no java. Fix.\n\nredis: no redis. Fix.');
  });
});

describe('pickErrorLine', () => {
  it('takes the last error line and the exception that follows it', () => {
    const log = [
      '[INFO ] starting',
      '[ERROR][o.e.b.Elasticsearch] fatal exception while booting Elasticsearch',
      'java.lang.IllegalArgumentException: unknown setting [x]',
      '\tat org.elasticsearch.Foo.validate(Foo.java:1)',
      '',
    ].join('\n');
    expect(pickErrorLine(log)).toBe('[ERROR][o.e.b.Elasticsearch] fatal exception while booting Elasticsearch: java.lang.IllegalArgumentException: unknown setting [x]');
  });

  it('finds Postgres FATAL lines and returns undefined for clean logs', () => {
    expect(pickErrorLine('LOG: x\nFATAL:  could not create any TCP/IP sockets\nLOG: database system is shut down')).toBe('FATAL:  could not create any TCP/IP sockets');
    expect(pickErrorLine('all good\n')).toBeUndefined();
  });
});

describe('parseJavaMajor', () => {
  it.each([
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['openjdk version "25" 2025-09-16', 25],
    ['java version "1.8.0_392"', 8],
    ['nonsense', undefined],
  ])('%s → %s', (text, major) => expect(parseJavaMajor(text)).toBe(major));
});

describe('parseServiceList', () => {
  it('keeps the canonical order and drops duplicates', () => {
    expect(parseServiceList('redis, postgres,redis')).toEqual(['postgres', 'redis']);
  });

  it('rejects unknown or empty lists', () => {
    expect(() => parseServiceList('postgres,mysql')).toThrow(/--services expects/);
    expect(() => parseServiceList('')).toThrow(/--services expects/);
  });
});
