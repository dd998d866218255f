import { describe, expect, it } from 'vitest';
import { haversineM } from '../../src/domain/geo.js';

describe('haversine', () => {
  it('measures a degree of latitude and a known city distance', () => {
    expect(haversineM(0, 0, 1, 0)).toBeCloseTo(111_195, -1);
    // Kupang El Tari airport to the Wali Kota office, about 7.5 km.
    const d = haversineM(-10.1716, 123.6711, -10.1587, 123.6069);
    expect(d).toBeGreaterThan(7000);
    expect(d).toBeLessThan(7300);
    expect(haversineM(-10.17, 123.6, -10.17, 123.6)).toBe(0);
  });
});
