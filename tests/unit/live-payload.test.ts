/**
 * The live position the worker publishes (src/domain/live.ts) is built as text for speed;
 * it must be exactly what JSON.stringify writes for the same object, in the schema's
 * field order, whatever the values.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isoFromMs, type LivePositionSource, livePositionJson, livePositionSchema } from '../../src/domain/live.js';

/** The slow way the fast one replaces: an object in the schema's order, through JSON.stringify. */
function viaStringify(s: LivePositionSource): string {
  const r = s.reading;
  const position = {
    vehicleId: s.vehicleId,
    departmentId: s.departmentId,
    deviceId: r.deviceId,
    at: new Date(r.fixAtMs).toISOString(),
    lat: r.lat,
    lon: r.lon,
    speedKmh: r.speedKmh,
    headingDeg: r.headingDeg,
    fuelLitres: r.fuelLitres,
    fuelPercent: r.fuelPercent,
    ignition: r.ignition,
    batteryV: r.batteryV,
  };
  expect(Object.keys(position)).toEqual(Object.keys(livePositionSchema.shape));
  return JSON.stringify(position);
}

const source = (
  reading: Partial<LivePositionSource['reading']>,
  ids: Partial<Omit<LivePositionSource, 'reading'>> = {},
): LivePositionSource => ({
  vehicleId: '0b6f6c1e-1f1e-4c1a-9d7e-2f5a3b1c0001',
  departmentId: '4b6f6c1e-1f1e-4c1a-9d7e-2f5a3b1c0002',
  ...ids,
  reading: {
    deviceId: 'kpg-001',
    fixAtMs: Date.UTC(2026, 11, 6, 1, 2, 3, 45),
    lat: -10.1772,
    lon: 123.607,
    speedKmh: 42.5,
    headingDeg: 181,
    fuelLitres: 50.1,
    fuelPercent: 62,
    ignition: true,
    batteryV: 13.92,
    ...reading,
  },
});

describe('live position JSON', () => {
  const cases: Array<[string, LivePositionSource]> = [
    ['a moving vehicle', source({})],
    [
      'every optional field null',
      source({ speedKmh: null, headingDeg: null, fuelLitres: null, fuelPercent: null, ignition: null, batteryV: null }),
    ],
    ['ignition off, zeros and a negative zero', source({ ignition: false, speedKmh: 0, headingDeg: -0, lat: 0.000001, lon: -179.999999 })],
    ['numbers JSON writes with exponents', source({ fuelLitres: 1e-7, batteryV: 1.5e21, speedKmh: 123456789.125 })],
    ['numbers JSON cannot hold', source({ speedKmh: Number.NaN, headingDeg: Number.POSITIVE_INFINITY })],
    ['an OwnTracks device id, quotes and unicode', source({ deviceId: 'budi/hp-dinas "A" \\ Ñusa 🚗\u0001' })],
    ['the first and last instants of a year', source({ fixAtMs: Date.UTC(2027, 0, 1, 0, 0, 0, 0) - 1 })],
  ];

  it.each(cases)('%s: the same text as JSON.stringify', (_name, s) => {
    const text = livePositionJson(s);
    expect(text).toBe(viaStringify(s));
    expect(livePositionSchema.safeParse(JSON.parse(text)).success).toBe(true);
  });

  it('writes the time as toISOString does, at the edges of days, months, leap years and its own range', () => {
    const instants = [
      0,
      -1,
      Date.UTC(2000, 1, 29, 23, 59, 59, 999),
      Date.UTC(2100, 1, 28, 12),
      Date.UTC(2100, 2, 1),
      Date.UTC(1900, 1, 28, 23, 59, 59, 999),
      Date.UTC(2024, 11, 31, 23, 59, 59, 999),
      Date.UTC(2026, 11, 6, 1, 2, 3, 4),
      Date.UTC(2026, 11, 6, 1, 2, 3, 45),
      Date.UTC(1000, 0, 1),
      Date.UTC(1000, 0, 1) - 1,
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999) + 1,
      1796553916408.5,
    ];
    for (const ms of instants) expect(isoFromMs(ms), String(ms)).toBe(new Date(ms).toISOString());
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(-5000, 0, 1), max: Date.UTC(12000, 0, 1) }), (ms) => {
        expect(isoFromMs(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 5000 },
    );
  });
});
