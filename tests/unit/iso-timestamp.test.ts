/** The COPY encoder's timestamps (src/repositories/telemetry.ts) are exactly toISOString's. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoTimestamp } from '../../src/repositories/telemetry.js';

describe('isoTimestamp', () => {
  it('writes what toISOString writes, for any millisecond of years 1970–9999 and beyond', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_000_000_000_000, max: 260_000_000_000_000 }), (ms) => {
        expect(isoTimestamp(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 20_000 },
    );
  });

  it('writes the edges of an hour and of a year', () => {
    for (const text of ['2026-12-31T23:59:59.999Z', '2027-01-01T00:00:00.000Z', '2026-12-06T07:05:09.007Z', '2026-12-06T07:59:00.050Z']) {
      expect(isoTimestamp(Date.parse(text))).toBe(text);
    }
  });
});
