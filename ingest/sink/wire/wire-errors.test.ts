import fs from 'node:fs';
import path from 'node:path';
import { isKafkaUnavailable } from '../../../core/kafka-unavailable';
import { ERROR_CODES, NOT_SENT_AGAIN, produceError } from './wire-errors';

/* eslint-disable @typescript-eslint/no-require-imports */
// kafkajs's hand-kept table (codes up to 88, some under pre-KIP names).
const kafkajs: Array<{ code: number; type: string; retriable: boolean }> = require('kafkajs/src/protocol/error').errorCodes;
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * @platformatic/kafka's table, generated from Kafka's own Errors.java (current names, every code).
 * The package is ESM only (and exports no such path), so its generated source is read as text.
 */
function platformatic(): Map<number, { name: string; retriable: boolean }> {
  const text = fs.readFileSync(path.join(__dirname, '../../../node_modules/@platformatic/kafka/dist/protocol/errors.js'), 'utf8');
  const out = new Map<number, { name: string; retriable: boolean }>();
  for (const m of text.matchAll(/id: '([A-Z_]+)',\s*code: (-?\d+),\s*canRetry: (true|false)/g)) out.set(Number(m[2]), { name: m[1]!, retriable: m[3] === 'true' });
  return out;
}

// Codes kafkajs still names as before Kafka renamed them.
const KAFKAJS_OLD_NAMES: Record<number, string> = { [-1]: 'UNKNOWN', 6: 'NOT_LEADER_FOR_PARTITION', 14: 'GROUP_LOAD_IN_PROGRESS', 15: 'GROUP_COORDINATOR_NOT_AVAILABLE', 16: 'NOT_COORDINATOR_FOR_GROUP' };

describe('the wire producer\'s Kafka error table', () => {
  const reference = platformatic();

  it('reads the generated reference list (so the checks below check something)', () => {
    expect(reference.size).toBeGreaterThan(120);
    expect(reference.get(44)).toEqual({ name: 'POLICY_VIOLATION', retriable: false });
  });

  it('names every code and flags it retriable as the Kafka protocol does', () => {
    for (const [code, entry] of ERROR_CODES) expect([code, entry]).toEqual([code, reference.get(code)]);
  });

  it('agrees with kafkajs\'s table on every code both list', () => {
    const byCode = new Map(kafkajs.map((e) => [e.code, e]));
    for (const [code, entry] of ERROR_CODES) {
      const k = byCode.get(code);
      if (!k) continue; // newer than kafkajs (above 88)
      expect([code, k.type, k.retriable]).toEqual([code, KAFKAJS_OLD_NAMES[code] ?? entry.name, entry.retriable]);
    }
  });

  it('holds every code the protocol calls retriable, so a "not now" answer is never taken for good', () => {
    const retriable = [...reference].filter(([, e]) => e.retriable).map(([code]) => code);
    expect(retriable.filter((code) => !ERROR_CODES.has(code))).toEqual([]);
  });

  it('sends again on retriable answers only, except the codes it must not', () => {
    for (const [code, { retriable }] of ERROR_CODES) {
      expect([code, isKafkaUnavailable(produceError(code, 't', 0))]).toEqual([code, retriable && !NOT_SENT_AGAIN.has(code)]);
    }
    expect(produceError(43, 't', 1).message).toMatch(/t\[1\]: UNSUPPORTED_FOR_MESSAGE_FORMAT \(error code 43\)/);
    expect(produceError(44, 't', 1).message).toMatch(/t\[1\]: POLICY_VIOLATION \(error code 44\)/);
    expect(produceError(9999, 't', 0)).toMatchObject({ name: 'KafkaProduceRefused', message: expect.stringMatching(/unknown error \(error code 9999\)/) });
  });
});
