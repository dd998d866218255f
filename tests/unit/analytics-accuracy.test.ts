/**
 * Accuracy against the simulator's ground truth (issue 5): a fleet of 16 vehicles modelled
 * on the Kupang demo fleet (tank sensors in litres and in percent with 0.4 L of noise,
 * slosh and 0.1 L steps; CAN counters; trackers with no fuel data), four WITA days of
 * office hours, shifts, garbage rounds and a bus loop, refuels, night-time drains (more
 * than the default, to have enough to count), coverage gaps and bad fixes. Every
 * complete vehicle-day is analysed as the rollup job does (the day plus context).
 *
 * Targets: litres used within 3 % per vehicle-day; refuels of 10 L or more found with
 * precision and recall ≥ 0.98 and volumes within 5 %; drains of 8 L or more with
 * precision and recall ≥ 0.95; distance within 1 %.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { simulatedFleet } from '../../simulator/sim-fleet.js';
import { contextMs } from '../../src/analytics/service.js';
import { analyseWindow, type WindowAnalysis } from '../../src/domain/analysis.js';
import { DEFAULT_FUEL_SETTINGS } from '../../src/domain/fuel/index.js';
import { dayRangeMs, DEFAULT_WORKING_HOURS } from '../../src/domain/report-time.js';
import { DEFAULT_TRIP_SETTINGS, type TripSettings } from '../../src/domain/trips.js';
import { matchEvents, mergedTruth, simulate, type SimulatedRun } from '../support/sim-truth.js';

const TZ = 'Asia/Makassar';
// Monday 2026-10-05, 00:00 WITA.
const START = Date.UTC(2026, 9, 4, 16);
const DAYS = 4;
const VEHICLES = 16;

let sim: SimulatedRun;
const results: Array<{
  deviceId: string;
  sensor: string;
  date: string;
  truth: SimulatedRun['days'][number];
  odometer: WindowAnalysis;
  gps: WindowAnalysis;
}> = [];

function analyseDay(deviceId: string, date: string, trips: TripSettings): WindowAnalysis {
  const vehicle = sim.vehicles.find((v) => v.deviceId === deviceId)!;
  const { startMs, endMs } = dayRangeMs(TZ, date);
  const ctx = contextMs(trips);
  const readings = (sim.readings.get(deviceId) ?? []).filter((r) => r.fixAtMs >= startMs - ctx.beforeMs && r.fixAtMs < endMs + ctx.afterMs);
  return analyseWindow(
    readings,
    vehicle,
    { trips, fuel: DEFAULT_FUEL_SETTINGS, tz: TZ, workingHours: DEFAULT_WORKING_HOURS },
    startMs,
    endMs,
  );
}

beforeAll(() => {
  sim = simulate(
    simulatedFleet(VEHICLES, 'armada'),
    { seed: 2026, startMs: START, schedule: 'realistic', drainRatePerDay: 0.5 },
    START + DAYS * 86_400_000,
  );
  for (const day of sim.days) {
    if (day.partial) continue;
    const sensor = sim.vehicles.find((v) => v.deviceId === day.deviceId)!.sensor;
    results.push({
      deviceId: day.deviceId,
      sensor,
      date: day.date,
      truth: day,
      odometer: analyseDay(day.deviceId, day.date, DEFAULT_TRIP_SETTINGS),
      gps: analyseDay(day.deviceId, day.date, { ...DEFAULT_TRIP_SETTINGS, ignoreOdometer: true }),
    });
  }
}, 60_000);

const withinShare = (measured: number, truth: number, share: number, floor = 0) =>
  Math.abs(measured - truth) <= Math.max(share * truth, floor);

describe('accuracy against the simulator', () => {
  it('says which source measured each day', () => {
    for (const r of results) {
      const active = r.truth.distanceKm > 0 || r.truth.engineHours > 0;
      if (!active) continue;
      const expected = r.sensor === 'counter' ? 'counter' : r.sensor === 'none' ? 'rated' : 'sensor';
      expect(r.odometer.fuel.source, `${r.deviceId} ${r.date}`).toBe(expected);
    }
  });

  it('measures the litres used by the CAN counter within 3 % per vehicle-day', () => {
    const counted = results.filter((r) => r.sensor === 'counter' && r.truth.litresUsed > 0);
    expect(counted.length).toBeGreaterThan(5);
    // The counter counts in 0.1 L steps: on a nearly idle day that step is the error.
    for (const r of counted)
      expect(withinShare(r.odometer.fuel.usedLitres, r.truth.litresUsed, 0.03, 0.1), `${r.deviceId} ${r.date}`).toBe(true);
  });

  it('measures the litres used by the tank sensor within 3 % on every vehicle-day', () => {
    const sensed = results.filter((r) => (r.sensor === 'litres' || r.sensor === 'percent') && r.truth.litresUsed > 0);
    expect(sensed.length).toBeGreaterThan(30);
    // Days with a refuel (a minute of readings at the pump) and nearly idle days included.
    const misses = sensed
      .filter((r) => !withinShare(r.odometer.fuel.usedLitres, r.truth.litresUsed, 0.03))
      .map(
        (r) =>
          `${r.deviceId} ${r.date}: ${r.odometer.fuel.usedLitres.toFixed(2)} L measured, ${r.truth.litresUsed.toFixed(2)} L true (${((100 * (r.odometer.fuel.usedLitres - r.truth.litresUsed)) / r.truth.litresUsed).toFixed(1)} %)`,
      );
    expect(misses, 'sensor vehicle-days off by more than 3 %').toEqual([]);
  });

  it('finds refuels of 10 L or more (precision and recall ≥ 0.98, volumes within 5 %)', () => {
    const sensors = new Set(
      sim.vehicles.filter((v) => v.sensor === 'litres' || v.sensor === 'percent' || v.sensor === 'counter').map((v) => v.deviceId),
    );
    const found = results.flatMap((r) => r.odometer.fuel.refuels.map((e) => ({ ...e, deviceId: r.deviceId })));
    const truth = mergedTruth(
      sim.events.filter((e) => e.type === 'refuel' && sensors.has(e.deviceId) && hasLevel(e.deviceId)),
      DEFAULT_FUEL_SETTINGS.mergeGapS,
    );
    const m = matchEvents(truth, found, 10);
    expect(m.truth).toBeGreaterThan(15);
    expect(m.recall).toBeGreaterThanOrEqual(0.98);
    expect(m.precision).toBeGreaterThanOrEqual(0.98);
    expect(m.maxVolumeError).toBeLessThanOrEqual(0.05);
  });

  it('finds drains of 8 L or more (precision and recall ≥ 0.95)', () => {
    const found = results.flatMap((r) => r.odometer.fuel.drains.map((e) => ({ ...e, deviceId: r.deviceId })));
    const truth = mergedTruth(
      sim.events.filter((e) => e.type === 'drain' && hasLevel(e.deviceId)),
      DEFAULT_FUEL_SETTINGS.mergeGapS,
    );
    const m = matchEvents(truth, found, 8);
    expect(m.truth).toBeGreaterThan(12);
    expect(m.recall).toBeGreaterThanOrEqual(0.95);
    expect(m.precision).toBeGreaterThanOrEqual(0.95);
  });

  it('measures distance within 1 % per vehicle-day, from the odometer and from the GPS fixes alike', () => {
    const driven = results.filter((r) => r.truth.distanceKm >= 1);
    expect(driven.length).toBeGreaterThan(40);
    for (const r of driven) {
      expect(r.odometer.distanceSource).toBe('odometer');
      expect(r.gps.distanceSource).toBe('gps');
      expect(withinShare(r.odometer.metrics.distanceM / 1000, r.truth.distanceKm, 0.01), `${r.deviceId} ${r.date} odometer`).toBe(true);
      expect(withinShare(r.gps.metrics.distanceM / 1000, r.truth.distanceKm, 0.01), `${r.deviceId} ${r.date} gps`).toBe(true);
    }
  });

  it('measures engine and idle hours close to the truth', () => {
    for (const r of results.filter((x) => x.truth.engineHours >= 1)) {
      expect(withinShare(r.odometer.metrics.engineS / 3600, r.truth.engineHours, 0.03, 0.05), `${r.deviceId} ${r.date}`).toBe(true);
      expect(Math.abs(r.odometer.metrics.idleS / 3600 - r.truth.idleHours), `${r.deviceId} ${r.date}`).toBeLessThan(0.15);
    }
  });
});

function hasLevel(deviceId: string): boolean {
  const v = sim.vehicles.find((x) => x.deviceId === deviceId)!;
  return v.sensor === 'litres' || v.sensor === 'percent' || (v.sensor === 'counter' && v.counterWithLevel !== false);
}
