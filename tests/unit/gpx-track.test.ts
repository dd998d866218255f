/**
 * A real drive (tests/fixtures/tracks/around-visnjan-with-car.gpx: 104 fixes from a
 * Garmin, no speeds, about 2.73 km with one stop of about two minutes) through the trip
 * and distance analysis with the default settings.
 */
import { describe, expect, it } from 'vitest';
import { analyseWindow } from '../../src/domain/analysis.js';
import { DEFAULT_FUEL_SETTINGS } from '../../src/domain/fuel/index.js';
import { DEFAULT_WORKING_HOURS } from '../../src/domain/report-time.js';
import { DEFAULT_TRIP_SETTINGS } from '../../src/domain/trips.js';
import { readGpx } from '../support/gpx.js';
import { GPX_FIXTURE } from '../support/fixtures.js';

describe('the Visnjan car track', () => {
  const points = readGpx(GPX_FIXTURE);
  const readings = points.map((p) => ({
    fixAtMs: p.timeMs,
    lat: p.lat,
    lon: p.lon,
    speedKmh: null,
    ignition: null,
    odometerKm: null,
    hdop: null,
    satellites: null,
    fuelLitres: null,
    fuelPercent: null,
    fuelUsedLitres: null,
  }));
  const result = analyseWindow(
    readings,
    { tankCapacityLitres: 50, ratedLitresPer100Km: 8, idleLitresPerHour: 0.8 },
    { trips: DEFAULT_TRIP_SETTINGS, fuel: DEFAULT_FUEL_SETTINGS, tz: 'Europe/Zagreb', workingHours: DEFAULT_WORKING_HOURS },
    points[0]!.timeMs,
    points[points.length - 1]!.timeMs + 1,
  );

  it('is about 2.73 km long', () => {
    expect(points).toHaveLength(104);
    expect(result.metrics.distanceM / 1000).toBeGreaterThan(2.7);
    expect(result.metrics.distanceM / 1000).toBeLessThan(2.76);
  });

  it('has two trips around one stop of about two minutes', () => {
    const trips = result.segments.filter((s) => s.kind === 'trip');
    const stops = result.segments.filter((s) => s.kind === 'stop');
    expect(trips).toHaveLength(2);
    const middle = stops.find((s) => s.startMs > trips[0]!.startMs && s.endMs < trips[1]!.endMs)!;
    expect(middle).toBeDefined();
    expect(new Date(middle.startMs).toISOString()).toMatch(/^2020-12-18T06:19:3\d/);
    expect((middle.endMs - middle.startMs) / 1000).toBeGreaterThanOrEqual(100);
    expect((middle.endMs - middle.startMs) / 1000).toBeLessThanOrEqual(140);
    const tripKm = trips.reduce((sum, t) => sum + t.distanceM, 0) / 1000;
    expect(tripKm).toBeGreaterThan(2.6);
  });
});
