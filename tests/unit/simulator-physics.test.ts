/**
 * Fuel physics and noise: litres used follow the rated figures within stated bounds,
 * and the tank sensor and GPS show the noise they are configured with — checked with
 * fixed seeds, so a failure is a change in the model, not bad luck.
 */
import { describe, expect, it } from 'vitest';
import { demoSimVehicle, demoVehicles } from '../../simulator/demo-fleet.js';
import { simulatePeriod } from '../../simulator/batch.js';
import type { ReadingTruth, SimMessage, SimVehicle } from '../../simulator/fleet/index.js';
import type { ArmadaPayload } from '../../simulator/formats.js';
import { distanceM, offsetM } from '../../simulator/kupang.js';
import { DEFAULT_TANK_SENSOR, drivingFactor, quantise, sensedLevelLitres } from '../../simulator/physics.js';
import { mulberry32 } from '../../simulator/random.js';
import type { DayRecord, VehicleRecord } from '../../simulator/truth.js';

const DAY_MS = 86_400_000;
const MONDAY_MS = Date.parse('2026-11-02T00:00:00+08:00');
const demoFleet: SimVehicle[] = demoVehicles.map((v) => demoSimVehicle(v));

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function sd(xs: number[]): number {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

function readings(messages: SimMessage[]): Array<{ payload: ArmadaPayload; truth: ReadingTruth }> {
  return messages.flatMap((m) =>
    ((Array.isArray(m.payload) ? m.payload : [m.payload]) as ArmadaPayload[]).map((payload, i) => ({ payload, truth: m.truth![i]! })),
  );
}

describe('consumption', () => {
  it('is cheapest at city cruising speed, dearer crawling and fast, dearer accelerating', () => {
    expect(drivingFactor(50, 0)).toBeLessThan(drivingFactor(10, 0));
    expect(drivingFactor(50, 0)).toBeLessThan(drivingFactor(90, 0));
    expect(drivingFactor(30, 1)).toBeGreaterThan(drivingFactor(30, 0));
    expect(drivingFactor(30, -1)).toBe(drivingFactor(30, 0));
  });

  // A working week of the whole demo fleet on its realistic duties.
  const week = simulatePeriod({ vehicles: demoFleet, seed: 3, startMs: MONDAY_MS }, MONDAY_MS + 5 * DAY_MS);
  const days = week.truth.filter((r): r is DayRecord => r.type === 'day');
  const vehicles = week.truth.filter((r): r is VehicleRecord => r.type === 'vehicle');

  it('matches rated L/100 km × distance + idle L/h × idle hours within 10 % per vehicle-day', () => {
    const driven = days.filter((d) => d.distanceKm >= 5);
    expect(driven.length).toBeGreaterThan(120);
    const off = driven
      .filter((d) => Math.abs(d.litresUsed / d.ratedLitres - 1) > 0.1)
      .map((d) => `${d.plateNumber} ${d.date}: ${d.litresUsed} vs ${d.ratedLitres}`);
    expect(off).toEqual([]);
  });

  it('within 6 % per vehicle over the week, and 3 % for the fleet', () => {
    for (const v of vehicles) expect(Math.abs(v.litresUsed / v.ratedLitres - 1), v.plateNumber).toBeLessThan(0.06);
    const fleetRatio = vehicles.reduce((s, v) => s + v.litresUsed, 0) / vehicles.reduce((s, v) => s + v.ratedLitres, 0);
    expect(Math.abs(fleetRatio - 1)).toBeLessThan(0.03);
  });

  it('burns the idle figure with the engine on and the wheels still', () => {
    for (const v of vehicles) expect(v.idleLitres).toBeCloseTo(v.idleHours * v.idleLitresPerHour, 3);
    // Garbage trucks idle at every collection point; office cars hardly at all.
    const idleShare = (plate: string) => {
      const v = vehicles.find((x) => x.plateNumber === plate)!;
      return v.idleHours / v.engineHours;
    };
    expect(idleShare('DH 120')).toBeGreaterThan(0.25);
    expect(idleShare('DH 101')).toBeLessThan(0.25);
  });

  it('never runs a tank dry', () => {
    for (const v of vehicles) expect(v.ranDryS, v.plateNumber).toBe(0);
  });
});

describe('tank sensor', () => {
  it('adds gaussian noise of the configured σ and quantises to the configured step', () => {
    const rng = mulberry32(42);
    const opts = { ...DEFAULT_TANK_SENSOR, noiseSigmaLitres: 1.5, stepLitres: 0.5 };
    const values = Array.from({ length: 20_000 }, () => sensedLevelLitres(30, 60, false, 0, rng, opts));
    const residuals = values.map((v) => v - 30);
    expect(Math.abs(mean(residuals))).toBeLessThan(0.05);
    // Quantising adds step²/12 to the variance.
    expect(sd(residuals)).toBeCloseTo(Math.sqrt(1.5 ** 2 + 0.5 ** 2 / 12), 1);
    expect(values.every((v) => Math.abs(v / 0.5 - Math.round(v / 0.5)) < 1e-9)).toBe(true);
  });

  it('sloshes in proportion to the acceleration while moving, scaled with the tank', () => {
    const rng = mulberry32(43);
    const opts = { ...DEFAULT_TANK_SENSOR, noiseSigmaLitres: 0.2, stepLitres: 0, sloshSigmaLitres: 0.3 };
    const shift = (accel: number, capacity: number) =>
      mean(Array.from({ length: 4000 }, () => sensedLevelLitres(capacity / 2, capacity, true, accel, rng, opts) - capacity / 2));
    expect(shift(1, 60)).toBeCloseTo(opts.sloshLitresPerMps2, 1);
    expect(shift(-1, 60)).toBeCloseTo(-opts.sloshLitresPerMps2, 1);
    expect(shift(1, 120)).toBeCloseTo(2 * opts.sloshLitresPerMps2, 1);
    expect(Math.abs(shift(1, 60) - shift(0, 60))).toBeGreaterThan(1);
    // Parked, the same acceleration figure does nothing.
    expect(Math.abs(mean(Array.from({ length: 4000 }, () => sensedLevelLitres(30, 60, false, 1, rng, opts) - 30)))).toBeLessThan(0.02);
  });

  it('never reads outside the tank', () => {
    const rng = mulberry32(44);
    for (let i = 0; i < 2000; i++) {
      const v = sensedLevelLitres(i % 2 === 0 ? 0.1 : 59.9, 60, true, 2, rng, DEFAULT_TANK_SENSOR);
      expect(v >= 0 && v <= 60).toBe(true);
    }
  });

  it('quantises without binary fractions showing', () => {
    expect(quantise(12.34, 0.1)).toBe(12.3);
    expect(String(quantise(0.7, 0.1))).toBe('0.7');
    expect(quantise(12.34, 0)).toBe(12.34);
  });

  // Two days of litre-sensor and counter vehicles with heavy noise, seen through the readings.
  const sensorFleet = demoFleet.filter((v) => v.sensor === 'litres' || v.sensor === 'counter').slice(0, 8);
  const sensed = simulatePeriod(
    {
      vehicles: sensorFleet,
      seed: 5,
      startMs: MONDAY_MS,
      readingTruth: true,
      sensor: { noiseSigmaLitres: 0.8, stepLitres: 0.2 },
      gpsNoiseM: 4,
      badFixRate: 0.02,
    },
    MONDAY_MS + 2 * DAY_MS,
  );
  const all = readings(sensed.messages);

  it('shows the configured noise in the readings of parked vehicles', () => {
    const parked = all.filter((r) => r.payload.fuelLitres !== undefined && !r.truth.ignition);
    expect(parked.length).toBeGreaterThan(5000);
    const residuals = parked.map((r) => r.payload.fuelLitres! - r.truth.levelLitres);
    expect(Math.abs(mean(residuals))).toBeLessThan(0.05);
    expect(sd(residuals) / Math.sqrt(0.8 ** 2 + 0.2 ** 2 / 12)).toBeGreaterThan(0.93);
    expect(sd(residuals) / Math.sqrt(0.8 ** 2 + 0.2 ** 2 / 12)).toBeLessThan(1.07);
  });

  it('reads noisier while moving', () => {
    const residual = (r: (typeof all)[number]) => r.payload.fuelLitres! - r.truth.levelLitres;
    const litres = all.filter((r) => r.payload.fuelLitres !== undefined);
    const moving = litres.filter((r) => r.truth.speedKmh > 0);
    const parked = litres.filter((r) => !r.truth.ignition);
    expect(sd(moving.map(residual))).toBeGreaterThan(1.2 * sd(parked.map(residual)));
  });

  it('counts every litre burnt on the CAN counter, and nothing else', () => {
    const counterIds = new Set(sensorFleet.filter((v) => v.sensor === 'counter').map((v) => v.deviceId));
    expect(counterIds.size).toBeGreaterThan(0);
    for (const id of counterIds) {
      const track = sensed.messages
        .filter((m) => m.deviceId === id)
        .flatMap((m) => (Array.isArray(m.payload) ? m.payload : [m.payload]) as ArmadaPayload[]);
      track.sort((a, b) => a.seq - b.seq);
      for (let i = 1; i < track.length; i++) expect(track[i]!.fuelUsedLitres!).toBeGreaterThanOrEqual(track[i - 1]!.fuelUsedLitres!);
      const truth = sensed.truth.find((r): r is VehicleRecord => r.type === 'vehicle' && r.deviceId === id)!;
      // The last reading may come a parked interval before the end of the run.
      expect(Math.abs(track.at(-1)!.fuelUsedLitres! - track[0]!.fuelUsedLitres! - truth.litresUsed)).toBeLessThan(0.3);
    }
  });
});

describe('GPS', () => {
  const sensedGps = simulatePeriod(
    {
      vehicles: demoFleet.slice(0, 6),
      seed: 6,
      startMs: MONDAY_MS,
      readingTruth: true,
      gpsNoiseM: 4,
      badFixRate: 0.02,
      offlineRatePerDay: 0,
    },
    MONDAY_MS + DAY_MS,
  );
  const all = readings(sensedGps.messages);

  it('errs by the configured σ per axis on good fixes', () => {
    const good = all.filter((r) => r.truth.badFix === null);
    const north = good.map((r) => distanceM({ lat: r.payload.lat, lon: r.truth.lon }, r.truth) * Math.sign(r.payload.lat - r.truth.lat));
    const east = good.map((r) => distanceM({ lat: r.truth.lat, lon: r.payload.lon }, r.truth) * Math.sign(r.payload.lon - r.truth.lon));
    for (const axis of [north, east]) {
      expect(Math.abs(mean(axis))).toBeLessThan(0.15);
      expect(sd(axis)).toBeGreaterThan(4 * 0.95);
      expect(sd(axis)).toBeLessThan(4 * 1.05);
    }
    expect(distanceM(offsetM(good[0]!.truth, 0, 0), good[0]!.truth)).toBe(0);
  });

  it('sends bad fixes at the configured rate: (0, 0) and jumps of kilometres', () => {
    const bad = all.filter((r) => r.truth.badFix !== null);
    const rate = bad.length / all.length;
    // 2 % of a few thousand readings: a binomial count within about four standard deviations.
    expect(rate).toBeGreaterThan(0.014);
    expect(rate).toBeLessThan(0.026);
    for (const r of bad) {
      if (r.truth.badFix === 'null-island') expect([r.payload.lat, r.payload.lon]).toEqual([0, 0]);
      else expect(distanceM(r.payload, r.truth)).toBeGreaterThan(1900);
    }
    expect(bad.some((r) => r.truth.badFix === 'jump')).toBe(true);
  });
});
