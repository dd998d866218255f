/**
 * A small, seeded, second-by-second vehicle model for the fuel tests: a script of
 * phases (park, idle, drive, refuel, drain) becomes readings with a noisy tank sensor
 * and the exact truth (litres burnt, refuelled, drained, distance). Deliberately
 * independent of the simulator, so the analytics are not tuned to one model only.
 */
import type { AnalysisReading } from '../../src/domain/trips.js';

/** mulberry32, kept here so these tests do not depend on the simulator's internals. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Phase =
  | { kind: 'park'; seconds: number }
  | { kind: 'idle'; seconds: number }
  | { kind: 'drive'; metres: number; cruiseKmh: number; lights?: number }
  | { kind: 'refuel'; litres: number; litresPerS?: number; waitS?: number }
  | { kind: 'drain'; litres: number; litresPerS?: number; ignition?: boolean; moving?: boolean };

export interface SyntheticVehicle {
  tankCapacityLitres: number;
  ratedLitresPer100Km: number;
  idleLitresPerHour: number;
}

export interface SensorNoise {
  sigmaLitres: number;
  stepLitres: number;
  sloshLitresPerMps2: number;
  sloshSigmaLitres: number;
  kind: 'litres' | 'percent' | 'counter' | 'none';
}

export const DEFAULT_NOISE: SensorNoise = {
  sigmaLitres: 0.4,
  stepLitres: 0.1,
  sloshLitresPerMps2: 1.5,
  sloshSigmaLitres: 0.5,
  kind: 'litres',
};

export interface TruthEvent {
  kind: 'refuel' | 'drain';
  startMs: number;
  endMs: number;
  litres: number;
}

export interface SyntheticRun {
  readings: AnalysisReading[];
  /** The true tank level at each reading. */
  trueLevels: number[];
  usedLitres: number;
  distanceM: number;
  events: TruthEvent[];
  idleS: number;
  startMs: number;
  endMs: number;
}

export function synthesise(
  vehicle: SyntheticVehicle,
  phases: Phase[],
  opts: { startMs: number; seed: number; startLitres: number; movingEveryS?: number; parkedEveryS?: number; noise?: SensorNoise },
): SyntheticRun {
  const rng = mulberry32(opts.seed);
  const gauss = () => Math.sqrt(-2 * Math.log(Math.max(rng(), 1e-12))) * Math.cos(2 * Math.PI * rng());
  const noise = opts.noise ?? DEFAULT_NOISE;
  const movingEvery = opts.movingEveryS ?? 10;
  const parkedEvery = opts.parkedEveryS ?? 60;
  const readings: AnalysisReading[] = [];
  const trueLevels: number[] = [];
  const events: TruthEvent[] = [];
  let tS = 0;
  let level = opts.startLitres;
  let used = 0;
  let distanceM = 0;
  let idleS = 0;
  let speedMps = 0;
  let accel = 0;
  let ignition = false;
  let lastReadingS = -Infinity;
  let counter = 1000;

  const emit = () => {
    const every = ignition || speedMps > 0 ? movingEvery : parkedEvery;
    if (tS - lastReadingS < every) return;
    lastReadingS = tS;
    const moving = speedMps > 0.1;
    const scale = vehicle.tankCapacityLitres / 60;
    const slosh = moving ? scale * (noise.sloshLitresPerMps2 * accel + noise.sloshSigmaLitres * gauss()) : 0;
    let sensed = level + noise.sigmaLitres * gauss() + slosh;
    sensed = Math.min(vehicle.tankCapacityLitres, Math.max(0, Math.round(sensed / noise.stepLitres) * noise.stepLitres));
    trueLevels.push(level);
    readings.push({
      fixAtMs: opts.startMs + tS * 1000,
      lat: -10.17 + gauss() * 0.00001,
      lon: 123.55 + distanceM / 109_500 + gauss() * 0.00001,
      speedKmh: Math.round(speedMps * 3.6 * 10) / 10,
      ignition,
      odometerKm: null,
      hdop: 1,
      satellites: 9,
      fuelLitres: noise.kind === 'litres' ? Math.round(sensed * 10) / 10 : null,
      fuelPercent: noise.kind === 'percent' ? Math.round((1000 * sensed) / vehicle.tankCapacityLitres) / 10 : null,
      fuelUsedLitres: noise.kind === 'counter' ? Math.round(counter * 10) / 10 : null,
    });
  };
  const burn = (litres: number) => {
    level = Math.max(0, level - litres);
    used += litres;
    counter += litres;
  };
  const second = (onSecond: () => void) => {
    onSecond();
    tS += 1;
    emit();
  };

  emit();
  for (const phase of phases) {
    switch (phase.kind) {
      case 'park':
        ignition = false;
        speedMps = 0;
        accel = 0;
        for (let s = 0; s < phase.seconds; s++) second(() => undefined);
        break;
      case 'idle':
        ignition = true;
        speedMps = 0;
        accel = 0;
        for (let s = 0; s < phase.seconds; s++)
          second(() => {
            burn(vehicle.idleLitresPerHour / 3600);
            idleS++;
          });
        break;
      case 'drive': {
        ignition = true;
        const cruise = phase.cruiseKmh / 3.6;
        const lights = phase.lights ?? 0;
        const legM = phase.metres / (lights + 1);
        for (let leg = 0; leg <= lights; leg++) {
          let onLeg = 0;
          while (onLeg < legM) {
            second(() => {
              const remaining = legM - onLeg;
              const braking = Math.sqrt(2 * 2 * remaining);
              const next = Math.max(1, Math.min(speedMps + 1.2, cruise, braking));
              accel = next - speedMps;
              const stepM = Math.min(remaining, (speedMps + next) / 2);
              speedMps = next;
              onLeg += stepM;
              distanceM += stepM;
              const factor = 0.8 + 0.3 * Math.min(((speedMps * 3.6 - 50) / 40) ** 2, 4) + 0.55 * Math.max(0, accel);
              burn((vehicle.ratedLitresPer100Km * stepM * factor) / 100_000);
            });
          }
          speedMps = 0;
          accel = 0;
          if (leg < lights) {
            const wait = 20 + Math.floor(rng() * 40);
            for (let s = 0; s < wait; s++)
              second(() => {
                burn(vehicle.idleLitresPerHour / 3600);
                idleS++;
              });
          }
        }
        speedMps = 0;
        accel = 0;
        break;
      }
      case 'refuel': {
        ignition = false;
        speedMps = 0;
        accel = 0;
        const rate = phase.litresPerS ?? 0.55;
        const wait = phase.waitS ?? 90;
        for (let s = 0; s < wait; s++) second(() => undefined);
        const target = Math.min(vehicle.tankCapacityLitres, level + phase.litres);
        const startMs = opts.startMs + tS * 1000;
        const before = level;
        while (level < target - 1e-9)
          second(() => {
            level = Math.min(target, level + rate);
          });
        events.push({ kind: 'refuel', startMs, endMs: opts.startMs + tS * 1000, litres: level - before });
        for (let s = 0; s < wait; s++) second(() => undefined);
        break;
      }
      case 'drain': {
        ignition = phase.ignition ?? false;
        const rate = phase.litresPerS ?? 0.2;
        const target = Math.max(0, level - phase.litres);
        const startMs = opts.startMs + tS * 1000;
        const before = level;
        if (phase.moving) {
          ignition = true;
          speedMps = 40 / 3.6;
          accel = 0;
          while (level > target + 1e-9)
            second(() => {
              level = Math.max(target, level - rate);
              distanceM += speedMps;
              burn((vehicle.ratedLitresPer100Km * speedMps) / 100_000);
            });
          speedMps = 0;
        } else {
          speedMps = 0;
          accel = 0;
          while (level > target + 1e-9)
            second(() => {
              level = Math.max(target, level - rate);
              if (ignition) {
                burn(vehicle.idleLitresPerHour / 3600);
                idleS++;
              }
            });
        }
        events.push({ kind: 'drain', startMs, endMs: opts.startMs + tS * 1000, litres: before - level });
        break;
      }
    }
  }
  return { readings, trueLevels, usedLitres: used, distanceM, events, idleS, startMs: opts.startMs, endMs: opts.startMs + tS * 1000 };
}

/** A plausible working day: night parking, errands (with `extra`, e.g. a refuel, after the second), home. */
export function randomDay(seed: number, extra: Phase[] = []): Phase[] {
  const rng = mulberry32(seed * 7919 + 13);
  const phases: Phase[] = [{ kind: 'park', seconds: 6 * 3600 + Math.floor(rng() * 3600) }];
  const errands = 3 + Math.floor(rng() * 5);
  for (let e = 0; e < errands; e++) {
    if (rng() < 0.5) phases.push({ kind: 'idle', seconds: 30 + Math.floor(rng() * 90) });
    const metres = 2000 + rng() * 12_000;
    phases.push({ kind: 'drive', metres, cruiseKmh: 25 + rng() * 30, lights: Math.floor(rng() * 4) });
    if (rng() < 0.4) phases.push({ kind: 'idle', seconds: 20 + Math.floor(rng() * 60) });
    phases.push({ kind: 'park', seconds: 600 + Math.floor(rng() * 3600) });
    if (e === 1 && extra.length > 0) phases.push(...extra);
  }
  phases.push({ kind: 'park', seconds: 4 * 3600 });
  return phases;
}
