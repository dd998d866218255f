/**
 * Fuel used, refuels and drains on seeded synthetic days (tests/support/synthetic-day.ts:
 * a tank sensor with 0.4 L of noise, slosh while moving, 0.1 L steps; readings every 10 s
 * with the engine on and every 60 s parked).
 */
import { describe, expect, it } from 'vitest';
import { analyseWindow, type AnalysisSettings } from '../../src/domain/analysis.js';
import { DEFAULT_FUEL_SETTINGS } from '../../src/domain/fuel/index.js';
import { DEFAULT_WORKING_HOURS } from '../../src/domain/report-time.js';
import { DEFAULT_TRIP_SETTINGS } from '../../src/domain/trips.js';
import { DEFAULT_NOISE, randomDay, synthesise, type Phase, type SensorNoise } from '../support/synthetic-day.js';

const vehicle = { tankCapacityLitres: 60, ratedLitresPer100Km: 11, idleLitresPerHour: 0.9 };
const settings: AnalysisSettings = {
  trips: DEFAULT_TRIP_SETTINGS,
  fuel: DEFAULT_FUEL_SETTINGS,
  tz: 'Asia/Makassar',
  workingHours: DEFAULT_WORKING_HOURS,
};
const START = Date.UTC(2026, 10, 1, 16);

function run(phases: Phase[], opts: { seed?: number; startLitres?: number; noise?: SensorNoise } = {}) {
  const truth = synthesise(vehicle, phases, {
    startMs: START,
    seed: opts.seed ?? 5,
    startLitres: opts.startLitres ?? 30,
    noise: opts.noise ?? DEFAULT_NOISE,
  });
  const result = analyseWindow(truth.readings, vehicle, settings, truth.startMs, truth.endMs + 1);
  return { truth, result, fuel: result.fuel };
}

/** Park, drive, park, what is asked, drive, park. */
const around = (middle: Phase[]): Phase[] => [
  { kind: 'park', seconds: 3600 },
  { kind: 'drive', metres: 8000, cruiseKmh: 40, lights: 2 },
  { kind: 'park', seconds: 1200 },
  ...middle,
  { kind: 'drive', metres: 8000, cruiseKmh: 40, lights: 2 },
  { kind: 'park', seconds: 3600 },
];

describe('the source of the litres', () => {
  it('prefers the CAN counter, then the level sensor, then the rated figures, and says which', () => {
    const phases = around([{ kind: 'refuel', litres: 25 }]);
    expect(run(phases, { noise: { ...DEFAULT_NOISE, kind: 'counter' } }).fuel.source).toBe('counter');
    expect(run(phases, { noise: { ...DEFAULT_NOISE, kind: 'litres' } }).fuel.source).toBe('sensor');
    expect(run(phases, { noise: { ...DEFAULT_NOISE, kind: 'percent' } }).fuel.source).toBe('sensor');
    const rated = run(phases, { noise: { ...DEFAULT_NOISE, kind: 'none' } });
    expect(rated.fuel.source).toBe('rated');
    expect(rated.fuel.usedLitres).toBeCloseTo(
      (11 * rated.result.metrics.distanceM) / 100_000 + (0.9 * rated.result.metrics.idleS) / 3600,
      9,
    );
  });

  it('sums the counter increments and ignores a counter reset', () => {
    const { truth } = run(around([]), { noise: { ...DEFAULT_NOISE, kind: 'counter' } });
    const readings = truth.readings.map((r, i) => (i > truth.readings.length / 2 ? { ...r, fuelUsedLitres: r.fuelUsedLitres! - 1000 } : r));
    const result = analyseWindow(readings, vehicle, settings, truth.startMs, truth.endMs + 1);
    expect(result.fuel.usedLitres).toBeGreaterThan(truth.usedLitres - 0.3);
    expect(result.fuel.usedLitres).toBeLessThan(truth.usedLitres + 0.1);
  });
});

describe('a refuel does not make consumption negative (the Traccar complaint)', () => {
  it('takes a 25 L refuel out of the litres used, for the day and for the trips', () => {
    const { truth, fuel, result } = run(around([{ kind: 'refuel', litres: 25 }]));
    expect(fuel.refuels).toHaveLength(1);
    expect(fuel.refuels[0]!.litres).toBeGreaterThan(25 * 0.95);
    expect(fuel.refuels[0]!.litres).toBeLessThan(25 * 1.05);
    expect(fuel.usedLitres).toBeGreaterThan(0);
    expect(Math.abs(fuel.usedLitres - truth.usedLitres)).toBeLessThan(0.25);
    for (const trip of result.segments.filter((s) => s.kind === 'trip')) expect(trip.fuelUsedLitres).toBeGreaterThanOrEqual(0);
    // The tank's story adds up: start − end + refuels − drains ≈ used.
    expect(fuel.startLevelLitres! - fuel.endLevelLitres! + fuel.refuels[0]!.litres).toBeCloseTo(fuel.usedLitres, 0);
  });
});

describe('refuels and drains', () => {
  it('merges a pump stopped and restarted into one refuel', () => {
    const { fuel } = run(
      around([
        { kind: 'refuel', litres: 12, waitS: 60 },
        { kind: 'park', seconds: 120 },
        { kind: 'refuel', litres: 10, waitS: 60 },
      ]),
    );
    expect(fuel.refuels).toHaveLength(1);
    expect(fuel.refuels[0]!.litres).toBeGreaterThan(22 * 0.95);
    expect(fuel.refuels[0]!.litres).toBeLessThan(22 * 1.05);
  });

  it('finds a drain while parked, with the ignition on, and a slow siphon', () => {
    expect(
      run(
        around([
          { kind: 'drain', litres: 9 },
          { kind: 'park', seconds: 600 },
        ]),
      ).fuel.drains.map((d) => Math.round(d.litres)),
    ).toEqual([9]);
    expect(
      run(
        around([
          { kind: 'drain', litres: 9, ignition: true },
          { kind: 'park', seconds: 600 },
        ]),
      ).fuel.drains.map((d) => Math.round(d.litres)),
    ).toEqual([9]);
    const siphon = run(around([{ kind: 'drain', litres: 15, litresPerS: 0.02 }])).fuel.drains;
    expect(siphon).toHaveLength(1);
    expect(siphon[0]!.litres).toBeGreaterThan(15 * 0.95);
  });

  it('tells apart a drain and the refill that hides it minutes later', () => {
    const { fuel } = run(
      around([
        { kind: 'drain', litres: 15, litresPerS: 0.05 },
        { kind: 'park', seconds: 240 },
        { kind: 'refuel', litres: 25, waitS: 30 },
      ]),
    );
    expect(fuel.drains).toHaveLength(1);
    expect(fuel.refuels).toHaveLength(1);
    expect(fuel.drains[0]!.litres).toBeGreaterThan(15 * 0.95);
    expect(fuel.drains[0]!.litres).toBeLessThan(15 * 1.05);
    expect(fuel.refuels[0]!.litres).toBeGreaterThan(25 * 0.95);
    expect(fuel.refuels[0]!.litres).toBeLessThan(25 * 1.05);
  });

  it('finds a drain while driving when the level falls faster than driving explains', () => {
    const { fuel } = run(
      around([
        { kind: 'drive', metres: 3000, cruiseKmh: 40 },
        { kind: 'drain', litres: 10, litresPerS: 0.1, moving: true },
      ]),
    );
    expect(fuel.drains).toHaveLength(1);
    expect(fuel.drains[0]!.moving).toBe(true);
    expect(fuel.drains[0]!.litres).toBeGreaterThan(9.5);
    expect(fuel.refuels).toEqual([]);
  });

  it('scales the thresholds with the tank', () => {
    // 5 L into a 60 L tank is above max(4 L, 4 %); into a 200 L truck tank (8 L) it is not.
    expect(run(around([{ kind: 'refuel', litres: 5 }])).fuel.refuels).toHaveLength(1);
    const truck = { tankCapacityLitres: 200, ratedLitresPer100Km: 25, idleLitresPerHour: 2 };
    const t = synthesise(truck, around([{ kind: 'refuel', litres: 5 }]), { startMs: START, seed: 3, startLitres: 100 });
    expect(analyseWindow(t.readings, truck, settings, t.startMs, t.endMs + 1).fuel.refuels).toEqual([]);
  });

  it('finds every refuel of 10 L or more and every drain of 8 L or more on twenty random days, and nothing else', () => {
    let found = 0;
    let expected = 0;
    let falseEvents = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const extra: Phase[] =
        seed % 3 === 0
          ? [{ kind: 'refuel', litres: 10 + (seed % 7) * 4 }]
          : seed % 3 === 1
            ? [{ kind: 'drain', litres: 8 + (seed % 5) * 2 }]
            : [];
      const { truth, fuel } = run(randomDay(seed, extra), { seed, startLitres: 40 });
      const detected = [...fuel.refuels, ...fuel.drains];
      for (const ev of truth.events) {
        expected++;
        const match = detected.find((d) => d.kind === ev.kind && Math.abs(d.atMs - ev.startMs) < 10 * 60_000);
        if (match && Math.abs(match.litres - ev.litres) <= 0.05 * ev.litres) found++;
      }
      falseEvents += detected.filter(
        (d) => !truth.events.some((ev) => ev.kind === d.kind && Math.abs(d.atMs - ev.startMs) < 10 * 60_000),
      ).length;
    }
    expect(found).toBe(expected);
    expect(falseEvents).toBe(0);
  });
});

describe('litres used by the level sensor', () => {
  it('is within 3 % (or 0.1 L on light days) on days without refuels or drains', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const { truth, fuel } = run(randomDay(seed), { seed, startLitres: 40 });
      expect(Math.abs(fuel.usedLitres - truth.usedLitres), `seed ${seed}`).toBeLessThan(Math.max(0.1, 0.03 * truth.usedLitres));
    }
  });

  it('adds up across adjacent windows', () => {
    const { truth } = run(randomDay(4, [{ kind: 'refuel', litres: 20 }]), { seed: 4, startLitres: 40 });
    const whole = analyseWindow(truth.readings, vehicle, settings, truth.startMs, truth.endMs + 1).fuel.usedLitres;
    let parts = 0;
    const step = 3 * 3600_000;
    for (let from = truth.startMs; from <= truth.endMs; from += step)
      parts += analyseWindow(truth.readings, vehicle, settings, from, Math.min(truth.endMs + 1, from + step)).fuel.usedLitres;
    expect(Math.abs(parts - whole)).toBeLessThan(0.15);
  });
});
