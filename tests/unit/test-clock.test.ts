/** The test clock (tests/support/test-clock.ts) that date-sensitive tests run on. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_TEST_NOW, shiftClock, testClockStartMs } from '../support/test-clock.js';

describe('the test clock', () => {
  it('starts Date.now() and new Date() at the instant and runs on from there, and undoes it', async () => {
    const realBefore = Date.now();
    const startMs = Date.parse('2026-12-06T23:59:59.900+08:00');
    const restore = shiftClock(startMs);
    try {
      const first = Date.now();
      expect(first).toBeGreaterThanOrEqual(startMs);
      expect(first - startMs).toBeLessThan(1000);
      await new Promise((r) => setTimeout(r, 150));
      // Past midnight in Asia/Makassar: the clock runs, it is not frozen.
      // biome-ignore lint/complexity/useDateNow: what is tested is the moved Date constructor itself
      expect(new Date().getTime()).toBeGreaterThan(startMs + 100);
      expect(new Date().toISOString() >= '2026-12-06T16:00:00.000Z').toBe(true);
      expect(new Date(0).toISOString()).toBe('1970-01-01T00:00:00.000Z');
      expect(new Date('2026-01-02T03:04:05Z').getTime()).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
      expect(new Date(2026, 0, 2).getFullYear()).toBe(2026);
      expect(new Date()).toBeInstanceOf(Date);
      expect(typeof (Date as unknown as () => string)()).toBe('string');
      expect(() => shiftClock(startMs)).toThrow(/already shifted/);
    } finally {
      restore();
    }
    expect(Math.abs(Date.now() - realBefore)).toBeLessThan(60_000);
  });

  it('takes ARMADA_TEST_NOW with a zone, a fixed default without it, and refuses a time without a zone', () => {
    expect(testClockStartMs({})).toBe(Date.parse(DEFAULT_TEST_NOW));
    expect(new Date(testClockStartMs({})).getUTCDay()).toBe(3);
    expect(testClockStartMs({ ARMADA_TEST_NOW: '2027-01-01T00:00:30+08:00' })).toBe(Date.UTC(2026, 11, 31, 16, 0, 30));
    expect(() => testClockStartMs({ ARMADA_TEST_NOW: '2027-01-01T00:00:30' })).toThrow(/with a zone/);
    expect(() => testClockStartMs({ ARMADA_TEST_NOW: 'sunday' })).toThrow(/ARMADA_TEST_NOW/);
  });
});
