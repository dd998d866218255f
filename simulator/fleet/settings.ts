/**
 * The fleet simulation's settings: what a caller may set, their defaults, and the checks
 * that refuse a setting that makes no sense before a single second is simulated.
 */
import type { OutputFormat } from '../formats.js';
import { DEFAULT_TANK_SENSOR, type TankSensorOptions } from '../physics.js';
import type { SimVehicle } from '../vehicles.js';

/**
 * `realistic`: duty hours, nights and weekends as a city fleet has them.
 * `always`: every vehicle runs errands around the clock, so that a demo started at
 * night still shows traffic.
 */
export type ScheduleMode = 'realistic' | 'always';

export interface FleetOptions {
  vehicles: SimVehicle[];
  seed: number;
  /** Simulated time at the start, epoch ms (floored to a whole second). */
  startMs: number;
  schedule?: ScheduleMode;
  format?: OutputFormat;
  /** Seconds between readings with the ignition on (whole seconds, ≥ 1). Default 10. */
  intervalS?: number;
  /** Seconds between readings with the ignition off. Default max(intervalS, 60). */
  parkedIntervalS?: number;
  sensor?: Partial<TankSensorOptions>;
  /** σ of the GPS error per axis, metres. Default 3. */
  gpsNoiseM?: number;
  /** Fraction of readings that are bad fixes: half at (0, 0), half jumped 2–30 km. Default 0.001. */
  badFixRate?: number;
  /** Drains per vehicle per day. Default 0.02. */
  drainRatePerDay?: number;
  /** Fractions of refuels followed by a fraudulent receipt of each kind. */
  fraud?: { inflated?: number; phantom?: number; elsewhere?: number };
  /** Private evening trips per office vehicle per day. Default 0.03. */
  afterHoursRatePerDay?: number;
  /** Official trips out of the city per office vehicle per working day. Default 0.05. */
  outOfCityRatePerDay?: number;
  /** Coverage losses per vehicle per day (5 minutes to 4 hours each). Default 0.15. */
  offlineRatePerDay?: number;
  /** Attach the true state to every reading (`SimMessage.truth`), for tests. */
  readingTruth?: boolean;
}

export interface ResolvedFleetOptions {
  seed: number;
  startMs: number;
  schedule: ScheduleMode;
  format: OutputFormat;
  intervalS: number;
  parkedIntervalS: number;
  sensor: TankSensorOptions;
  gpsNoiseM: number;
  badFixRate: number;
  drainRatePerDay: number;
  fraud: { inflated: number; phantom: number; elsewhere: number };
  afterHoursRatePerDay: number;
  outOfCityRatePerDay: number;
  offlineRatePerDay: number;
  readingTruth: boolean;
}

export function resolveFleetOptions(opts: Omit<FleetOptions, 'vehicles'>): ResolvedFleetOptions {
  const intervalS = opts.intervalS ?? 10;
  const parkedIntervalS = opts.parkedIntervalS ?? Math.max(intervalS, 60);
  for (const [name, value] of [
    ['intervalS', intervalS],
    ['parkedIntervalS', parkedIntervalS],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number of seconds ≥ 1, got ${value}`);
  }
  const rate = (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`${name} must be a number ≥ 0, got ${v}`);
    return v;
  };
  const sensor = { ...DEFAULT_TANK_SENSOR, ...opts.sensor };
  for (const [k, v] of Object.entries(sensor)) if (!(v >= 0)) throw new Error(`sensor.${k} must be ≥ 0, got ${v}`);
  const badFixRate = rate('badFixRate', opts.badFixRate, 0.001);
  if (badFixRate > 1) throw new Error(`badFixRate is a fraction of readings, got ${badFixRate}`);
  return {
    seed: opts.seed,
    startMs: Math.floor(opts.startMs / 1000) * 1000,
    schedule: opts.schedule ?? 'realistic',
    format: opts.format ?? 'armada',
    intervalS,
    parkedIntervalS,
    sensor,
    gpsNoiseM: rate('gpsNoiseM', opts.gpsNoiseM, 3),
    badFixRate,
    drainRatePerDay: rate('drainRatePerDay', opts.drainRatePerDay, 0.02),
    fraud: {
      inflated: rate('fraud.inflated', opts.fraud?.inflated, 0.05),
      phantom: rate('fraud.phantom', opts.fraud?.phantom, 0.02),
      elsewhere: rate('fraud.elsewhere', opts.fraud?.elsewhere, 0.02),
    },
    afterHoursRatePerDay: rate('afterHoursRatePerDay', opts.afterHoursRatePerDay, 0.03),
    outOfCityRatePerDay: rate('outOfCityRatePerDay', opts.outOfCityRatePerDay, 0.05),
    offlineRatePerDay: rate('offlineRatePerDay', opts.offlineRatePerDay, 0.15),
    readingTruth: opts.readingTruth ?? false,
  };
}
