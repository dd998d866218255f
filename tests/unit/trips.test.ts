/**
 * Trips and stops. The first block transcribes the cases of Traccar's ReportUtilsTest
 * (traccar/traccar, src/test/java/org/traccar/reports/ReportUtilsTest.java): speeds there
 * are knots, distances metres, and a position is in motion when its speed is above 0;
 * Armada must agree with every one of them.
 */
import { describe, expect, it } from 'vitest';
import { analyseWindow, mergePieces, type AnalysisSettings, type SegmentPiece } from '../../src/domain/analysis.js';
import { DEFAULT_FUEL_SETTINGS } from '../../src/domain/fuel/index.js';
import { KNOTS_TO_KMH } from '../../src/domain/geo.js';
import { DEFAULT_WORKING_HOURS } from '../../src/domain/report-time.js';
import { detectMotion, prepareTrack, type AnalysisReading, type TripSettings } from '../../src/domain/trips.js';

const vehicle = { tankCapacityLitres: 50, ratedLitresPer100Km: 10, idleLitresPerHour: 1 };

function reading(over: Partial<AnalysisReading> & { fixAtMs: number }): AnalysisReading {
  return {
    lat: -10.17,
    lon: 123.6,
    speedKmh: null,
    ignition: null,
    odometerKm: null,
    hdop: null,
    satellites: null,
    fuelLitres: null,
    fuelPercent: null,
    fuelUsedLitres: null,
    ...over,
  };
}

/** Traccar's test position: a time, a speed in knots and a total distance in metres. */
function position(time: string, speedKnots: number, totalDistanceM: number, extra: Partial<AnalysisReading> = {}): AnalysisReading {
  return reading({
    fixAtMs: Date.parse(`${time.replace(' ', 'T')}Z`),
    speedKmh: speedKnots * KNOTS_TO_KMH,
    odometerKm: totalDistanceM / 1000,
    ...extra,
  });
}

/** Traccar's mockDevice(minimalTripDistance, minimalTripDuration, minimalParkingDuration, minimalNoDataDuration, useIgnition). */
function device(
  minTripDistanceM: number,
  minTripDurationS: number,
  minStopDurationS: number,
  minGapS: number,
  useIgnition: boolean,
): AnalysisSettings {
  return {
    trips: { minTripDistanceM, minTripDurationS, minStopDurationS, minGapS, useIgnition, minMotionSpeedKmh: 0, ignoreOdometer: false },
    fuel: DEFAULT_FUEL_SETTINGS,
    tz: 'UTC',
    workingHours: DEFAULT_WORKING_HOURS,
  };
}

function analyse(data: AnalysisReading[], settings: AnalysisSettings) {
  const result = analyseWindow(data, vehicle, settings, data[0]!.fixAtMs, data[data.length - 1]!.fixAtMs + 1);
  return { trips: result.segments.filter((s) => s.kind === 'trip'), stops: result.segments.filter((s) => s.kind === 'stop'), result };
}

const at = (time: string) => Date.parse(`2016-01-01T${time}Z`);
const durationMs = (s: SegmentPiece) => s.endMs - s.startMs;
/** Traccar's average speed: distance over duration, in knots. */
const avgKnots = (s: SegmentPiece) => ((s.distanceM / (durationMs(s) / 1000)) * 3.6) / KNOTS_TO_KMH;
const maxKnots = (s: SegmentPiece) => s.maxSpeedKmh / KNOTS_TO_KMH;

const simple = () => [
  position('2016-01-01 00:00:00.000', 0, 0),
  position('2016-01-01 00:01:00.000', 0, 0),
  position('2016-01-01 00:02:00.000', 10, 0),
  position('2016-01-01 00:03:00.000', 10, 1000),
  position('2016-01-01 00:04:00.000', 10, 2000),
  position('2016-01-01 00:05:00.000', 0, 3000),
  position('2016-01-01 00:15:00.000', 0, 3000),
  position('2016-01-01 00:25:00.000', 0, 3000),
];

const fluctuation = () => [
  position('2016-01-01 00:00:00.000', 0, 0),
  position('2016-01-01 00:01:00.000', 0, 0),
  position('2016-01-01 00:02:00.000', 10, 0),
  position('2016-01-01 00:03:00.000', 10, 1000),
  position('2016-01-01 00:04:00.000', 10, 2000),
  position('2016-01-01 00:05:00.000', 10, 3000),
  position('2016-01-01 00:06:00.000', 10, 4000),
  position('2016-01-01 00:07:00.000', 0, 5000),
  position('2016-01-01 00:08:00.000', 10, 6000),
  position('2016-01-01 00:09:00.000', 0, 7000),
  position('2016-01-01 00:19:00.000', 0, 7000),
  position('2016-01-01 00:29:00.000', 0, 7000),
];

const byGap = () => [
  position('2016-01-01 00:00:00.000', 7, 100),
  position('2016-01-01 00:01:00.000', 7, 300),
  position('2016-01-01 00:02:00.000', 5, 500),
  position('2016-01-01 00:03:00.000', 5, 600),
  position('2016-01-01 00:04:00.000', 3, 700),
  position('2016-01-01 00:23:00.000', 2, 700),
  position('2016-01-01 00:24:00.000', 5, 800),
  position('2016-01-01 00:25:00.000', 5, 900),
];

describe("Traccar's ReportUtilsTest", () => {
  it('testDetectTripsSimple', () => {
    const { trips } = analyse(simple(), device(500, 300, 180, 900, false));
    expect(trips).toHaveLength(1);
    const trip = trips[0]!;
    expect(trip.startMs).toBe(at('00:02:00'));
    expect(trip.endMs).toBe(at('00:05:00'));
    expect(durationMs(trip)).toBe(180_000);
    expect(avgKnots(trip)).toBeCloseTo(32.4, 1);
    expect(maxKnots(trip)).toBeCloseTo(10, 2);
    expect(trip.distanceM).toBeCloseTo(3000, 2);
  });

  it('testDetectStopsSimple', () => {
    const { stops } = analyse(simple(), device(500, 300, 180, 900, false));
    expect(stops.map((s) => [s.startMs, s.endMs, durationMs(s)])).toEqual([
      [at('00:00:00'), at('00:02:00'), 120_000],
      [at('00:05:00'), at('00:25:00'), 1_200_000],
    ]);
  });

  it('testDetectTripsSimpleWithIgnition', () => {
    const data = simple();
    data[5] = { ...data[5]!, ignition: false };
    const { trips } = analyse(data, device(500, 300, 180, 900, true));
    expect(trips).toHaveLength(1);
    const trip = trips[0]!;
    expect([trip.startMs, trip.endMs, durationMs(trip)]).toEqual([at('00:02:00'), at('00:05:00'), 180_000]);
    expect(avgKnots(trip)).toBeCloseTo(32.4, 1);
    expect(maxKnots(trip)).toBeCloseTo(10, 2);
    expect(trip.distanceM).toBeCloseTo(3000, 2);
  });

  it('testDetectStopsSimpleWithIgnition', () => {
    const data = simple();
    data[5] = { ...data[5]!, ignition: false };
    const { stops } = analyse(data, device(500, 300, 180, 900, true));
    expect(stops.map((s) => [s.startMs, s.endMs, durationMs(s)])).toEqual([
      [at('00:00:00'), at('00:02:00'), 120_000],
      [at('00:05:00'), at('00:25:00'), 1_200_000],
    ]);
  });

  it('testDetectTripsWithFluctuation', () => {
    const { trips } = analyse(fluctuation(), device(500, 300, 180, 900, false));
    expect(trips).toHaveLength(1);
    const trip = trips[0]!;
    expect([trip.startMs, trip.endMs, durationMs(trip)]).toEqual([at('00:02:00'), at('00:09:00'), 420_000]);
    expect(avgKnots(trip)).toBeCloseTo(32.4, 1);
    expect(maxKnots(trip)).toBeCloseTo(10, 2);
    expect(trip.distanceM).toBeCloseTo(7000, 2);
  });

  it('testDetectStopsWithFluctuation', () => {
    const { stops } = analyse(fluctuation(), device(500, 300, 180, 900, false));
    expect(stops.map((s) => [s.startMs, s.endMs, durationMs(s)])).toEqual([
      [at('00:00:00'), at('00:02:00'), 120_000],
      [at('00:09:00'), at('00:29:00'), 1_200_000],
    ]);
  });

  it('testDetectStopsOnly', () => {
    const data = [
      position('2016-01-01 00:00:00.000', 0, 0),
      position('2016-01-01 00:01:00.000', 0, 0),
      position('2016-01-01 00:02:00.000', 1, 0),
      position('2016-01-01 00:03:00.000', 0, 0),
      position('2016-01-01 00:04:00.000', 1, 0),
      position('2016-01-01 00:05:00.000', 0, 0),
    ];
    const { stops, trips } = analyse(data, device(500, 300, 200, 900, false));
    expect(trips).toEqual([]);
    expect(stops.map((s) => [s.startMs, s.endMs, durationMs(s)])).toEqual([[at('00:00:00'), at('00:05:00'), 300_000]]);
  });

  it('testDetectStopsWithTripCut', () => {
    const data = [
      position('2016-01-01 00:00:00.000', 0, 0),
      position('2016-01-01 00:01:00.000', 0, 0),
      position('2016-01-01 00:02:00.000', 0, 0),
      position('2016-01-01 00:03:00.000', 0, 0),
      position('2016-01-01 00:04:00.000', 1, 0),
      position('2016-01-01 00:05:00.000', 2, 0),
    ];
    const { stops } = analyse(data, device(500, 300, 200, 900, false));
    expect(stops.map((s) => [s.startMs, s.endMs, durationMs(s)])).toEqual([[at('00:00:00'), at('00:05:00'), 300_000]]);
  });

  it('testDetectStopsStartedFromTrip', () => {
    const data = [
      position('2016-01-01 00:00:00.000', 2, 0),
      position('2016-01-01 00:01:00.000', 1, 0),
      position('2016-01-01 00:02:00.000', 0, 0),
      position('2016-01-01 00:12:00.000', 0, 0),
      position('2016-01-01 00:22:00.000', 0, 0),
      position('2016-01-01 00:32:00.000', 0, 0),
    ];
    const { stops } = analyse(data, device(500, 300, 200, 900, false));
    expect(stops.map((s) => [s.startMs, s.endMs, durationMs(s)])).toEqual([[at('00:02:00'), at('00:32:00'), 1_800_000]]);
  });

  it('testDetectStopsMoving', () => {
    const data = [
      position('2016-01-01 00:00:00.000', 5, 0),
      position('2016-01-01 00:01:00.000', 5, 0),
      position('2016-01-01 00:02:00.000', 3, 0),
      position('2016-01-01 00:03:00.000', 5, 0),
      position('2016-01-01 00:04:00.000', 5, 0),
      position('2016-01-01 00:05:00.000', 5, 0),
    ];
    const { stops } = analyse(data, device(500, 300, 200, 900, false));
    expect(stops).toEqual([]);
  });

  it('testDetectTripByGap', () => {
    const { trips } = analyse(byGap(), device(500, 200, 200, 900, false));
    expect(trips).toHaveLength(1);
    const trip = trips[0]!;
    expect([trip.startMs, trip.endMs, durationMs(trip)]).toEqual([at('00:00:00'), at('00:04:00'), 240_000]);
    expect(avgKnots(trip)).toBeCloseTo(4.86, 2);
    expect(maxKnots(trip)).toBeCloseTo(7, 2);
    expect(trip.distanceM).toBeCloseTo(600, 2);
  });

  it('testDetectStopByGap', () => {
    const { stops } = analyse(byGap(), device(500, 200, 200, 900, false));
    expect(stops.map((s) => [s.startMs, s.endMs, durationMs(s)])).toEqual([[at('00:04:00'), at('00:25:00'), 1_260_000]]);
  });
});

describe('trips beyond Traccar', () => {
  const settings = (over: Partial<TripSettings> = {}): AnalysisSettings => ({
    ...device(500, 300, 180, 3600, false),
    trips: {
      minTripDistanceM: 500,
      minTripDurationS: 300,
      minStopDurationS: 180,
      minGapS: 3600,
      minMotionSpeedKmh: 2,
      useIgnition: false,
      ignoreOdometer: true,
      ...over,
    },
  });
  /** A drive east along the equator-ish line at `kmh`, one reading every `everyS`. */
  function drive(startMs: number, seconds: number, everyS: number, kmh: number, fromLon: number, extra: Partial<AnalysisReading> = {}) {
    const out: AnalysisReading[] = [];
    for (let s = 0; s <= seconds; s += everyS) {
      out.push(
        reading({
          fixAtMs: startMs + s * 1000,
          lat: -10.17,
          lon: fromLon + ((kmh / 3.6) * s) / 109_500,
          speedKmh: kmh,
          ignition: true,
          ...extra,
        }),
      );
    }
    return out;
  }
  function park(startMs: number, seconds: number, everyS: number, lon: number, seed = 1) {
    const out: AnalysisReading[] = [];
    let x = seed;
    const jitter = () => ((x = (x * 16807) % 2147483647) / 2147483647 - 0.5) * 0.00006; // about ±3 m
    for (let s = 0; s <= seconds; s += everyS) {
      out.push(reading({ fixAtMs: startMs + s * 1000, lat: -10.17 + jitter(), lon: lon + jitter(), speedKmh: 0, ignition: false }));
    }
    return out;
  }

  it('adds no distance for GPS jitter while parked', () => {
    const data = park(Date.UTC(2026, 10, 1), 6 * 3600, 10, 123.6);
    const { result } = analyse(data, settings());
    expect(result.metrics.distanceM).toBe(0);
    expect(result.segments.map((s) => s.kind)).toEqual(['stop']);
  });

  it('measures a drive from the fixes, and reports driving, idle and engine time', () => {
    const t0 = Date.UTC(2026, 10, 1, 1);
    const a = park(t0, 600, 30, 123.6);
    const idle = drive(t0 + 610_000, 120, 10, 0, 123.6).map((r) => ({ ...r, speedKmh: 0 }));
    const d = drive(t0 + 740_000, 900, 10, 36, 123.6);
    const endLon = d[d.length - 1]!.lon;
    const b = park(t0 + 1_650_000, 1200, 30, endLon, 7);
    const { trips, stops, result } = analyse([...a, ...idle, ...d, ...b], settings());
    expect(trips).toHaveLength(1);
    expect(trips[0]!.distanceM).toBeGreaterThan(8900);
    expect(trips[0]!.distanceM).toBeLessThan(9100);
    expect(trips[0]!.startMs).toBe(t0 + 740_000);
    expect(trips[0]!.endMs).toBe(t0 + 1_650_000);
    expect(trips[0]!.maxSpeedKmh).toBe(36);
    expect(stops).toHaveLength(2);
    expect(stops[0]!.engineOnS).toBe(130);
    expect(result.metrics.drivingS).toBe(910);
    expect(result.metrics.idleS).toBe(130);
    expect(result.metrics.engineS).toBe(1040);
  });

  it('uses the odometer when the device reports one, unless told to ignore it', () => {
    const t0 = Date.UTC(2026, 10, 1, 1);
    const d = drive(t0, 600, 10, 36, 123.6).map((r, i) => ({ ...r, odometerKm: 1000 + i * 0.2 }));
    const withOdo = analyse(d, settings({ ignoreOdometer: false })).result;
    expect(withOdo.distanceSource).toBe('odometer');
    expect(withOdo.metrics.distanceM).toBeCloseTo(12_000, 3);
    const gps = analyse(d, settings({ ignoreOdometer: true })).result;
    expect(gps.distanceSource).toBe('gps');
    expect(gps.metrics.distanceM).toBeGreaterThan(5900);
    expect(gps.metrics.distanceM).toBeLessThan(6100);
  });

  it('derives speed from the positions when the device sends none', () => {
    const t0 = Date.UTC(2026, 10, 1, 1);
    const d = [...park(t0, 300, 5, 123.6), ...drive(t0 + 305_000, 600, 5, 30, 123.6)].map((r) => ({ ...r, speedKmh: null }));
    const track = prepareTrack(d, settings().trips);
    const motion = detectMotion(track, settings().trips);
    expect(motion.transitions).toHaveLength(1);
    expect(track.t[motion.transitions[0]!.index]).toBeGreaterThanOrEqual(t0 + 305_000);
    expect(track.t[motion.transitions[0]!.index]).toBeLessThanOrEqual(t0 + 315_000);
  });

  it('drops fixes with a bad HDOP or an impossible jump from the distance', () => {
    const t0 = Date.UTC(2026, 10, 1, 1);
    const d = drive(t0, 600, 10, 36, 123.6);
    const spiked = d.map((r, i) => (i === 20 ? { ...r, lat: r.lat + 0.2 } : i === 30 ? { ...r, lon: r.lon + 0.01, hdop: 25 } : r));
    const clean = analyse(d, settings()).result.metrics.distanceM;
    const filtered = analyse(spiked, settings()).result.metrics.distanceM;
    expect(Math.abs(filtered - clean)).toBeLessThan(1);
  });

  it('cuts trips at window edges so that adjacent windows add up and merge back', () => {
    const t0 = Date.UTC(2026, 10, 1, 1);
    const data = [...park(t0, 1800, 30, 123.6), ...drive(t0 + 1_810_000, 1800, 10, 40, 123.6), ...park(t0 + 3_620_000, 1800, 30, 123.8)];
    const s = settings();
    const whole = analyseWindow(data, vehicle, s, t0, t0 + 6 * 3600_000);
    const mid = t0 + 2_700_000;
    const left = analyseWindow(data, vehicle, s, t0, mid);
    const right = analyseWindow(data, vehicle, s, mid, t0 + 6 * 3600_000);
    expect(left.metrics.distanceM + right.metrics.distanceM).toBeCloseTo(whole.metrics.distanceM, 6);
    const merged = mergePieces([...left.segments, ...right.segments]);
    expect(merged.map((p) => [p.kind, p.startMs, p.endMs])).toEqual(whole.segments.map((p) => [p.kind, p.startMs, p.endMs]));
    expect(merged[1]!.distanceM).toBeCloseTo(whole.segments[1]!.distanceM, 6);
    expect(left.segments[1]!.clippedEnd).toBe(true);
    expect(right.segments[0]!.clippedStart).toBe(true);
  });

  it('confirms a stop at once when the ignition goes off, in ignition mode', () => {
    const t0 = Date.UTC(2026, 10, 1, 1);
    const d = drive(t0, 600, 10, 36, 123.6);
    const endLon = d[d.length - 1]!.lon;
    const stopped = [0, 10, 20].map((s) => reading({ fixAtMs: t0 + 610_000 + s * 1000, lon: endLon, speedKmh: 0, ignition: s === 0 }));
    const moreDrive = drive(t0 + 640_000, 600, 10, 36, endLon);
    const data = [...d, ...stopped, ...moreDrive];
    expect(analyse(data, settings({ useIgnition: true })).trips).toHaveLength(2);
    expect(analyse(data, settings({ useIgnition: false })).trips).toHaveLength(1);
  });
});

describe('a trip’s distance never implies a speed its readings deny', () => {
  // Driving east at 20.7 km/h, a fix every 10 s (57.5 m), as in the case an audit found.
  const settings: AnalysisSettings = {
    trips: {
      minTripDistanceM: 500,
      minTripDurationS: 300,
      minStopDurationS: 90,
      minGapS: 3600,
      useIgnition: false,
      minMotionSpeedKmh: 2,
      ignoreOdometer: false,
    },
    fuel: DEFAULT_FUEL_SETTINGS,
    tz: 'UTC',
    workingHours: DEFAULT_WORKING_HOURS,
  };
  const startMs = at('08:00:00');
  const degreesPerMetre = 1 / (111_320 * Math.cos((10.17 * Math.PI) / 180));
  const drive = (n: number, jump: (i: number) => number) =>
    Array.from({ length: n }, (_, i) =>
      reading({ fixAtMs: startMs + i * 10_000, lon: 123.6 + (i * 57.5 + jump(i)) * degreesPerMetre, speedKmh: 20.7, ignition: true }),
    );

  it('leaves out a single fix 600 m off the road (237 km/h implied, under the 250 km/h any-vehicle limit; 20.7 km/h reported)', () => {
    const { trips } = analyse(
      drive(120, (i) => (i === 60 ? 600 : 0)),
      settings,
    );
    expect(trips).toHaveLength(1);
    const trip = trips[0]!;
    expect(trip.distanceM).toBeGreaterThan(119 * 57.5 * 0.99);
    expect(trip.distanceM).toBeLessThan(119 * 57.5 * 1.01);
    const avgKmh = (trip.distanceM / ((trip.endMs - trip.startMs) / 1000)) * 3.6;
    expect(avgKmh).toBeLessThanOrEqual(trip.maxSpeedKmh);
  });

  it('follows a vehicle that really is elsewhere (fixes that agree), without counting the jump', () => {
    // From fix 60 on, every fix is 600 m further east: the receiver was wrong before, or the vehicle was carried.
    const { trips } = analyse(
      drive(120, (i) => (i >= 60 ? 600 : 0)),
      settings,
    );
    const distanceM = trips.reduce((sum, t) => sum + t.distanceM, 0);
    expect(distanceM).toBeGreaterThan(118 * 57.5 * 0.99);
    expect(distanceM).toBeLessThan(119 * 57.5 * 1.01);
    for (const trip of trips) expect((trip.distanceM / ((trip.endMs - trip.startMs) / 1000)) * 3.6).toBeLessThanOrEqual(trip.maxSpeedKmh);
  });
});
