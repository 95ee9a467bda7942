import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PythonRandom } from '../../src/core/python-random.js';

const ROOT = join(import.meta.dirname, '..', '..');
// Recorded by CPython 3.11 (test/fixtures/prophet/make_python_random.py): the same calls in the same order.
const recorded = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/prophet/python-random.json'), 'utf8')) as Record<
  string,
  { uint32: number[]; shuffles: number[][]; bits: number[] }
>;

describe('PythonRandom matches CPython random', () => {
  for (const [seed, want] of Object.entries(recorded)) {
    it(`seed ${seed}: getrandbits(32), shuffle of 1…700 items, getrandbits(k)`, () => {
      const r = new PythonRandom(BigInt(seed));
      expect(Array.from({ length: 5 }, () => r.getrandbits(32))).toEqual(want.uint32);
      const got = [1, 2, 3, 10, 100, 101, 700].map((n) => r.shuffle(Array.from({ length: n }, (_, i) => i)));
      expect(got).toEqual(want.shuffles);
      expect([1, 5, 17, 31, 32].map((k) => r.getrandbits(k))).toEqual(want.bits);
    });
  }
  it('rejects out-of-range arguments', () => {
    const r = new PythonRandom(1);
    expect(() => r.getrandbits(33)).toThrow(RangeError);
    expect(() => r.randbelow(0)).toThrow(RangeError);
  });
});
