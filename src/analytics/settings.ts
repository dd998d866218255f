/**
 * What the analytics need to know besides the data: the report time zone, the trip
 * thresholds (Traccar's report.trip.*), the fuel event thresholds, the working hours and
 * how often the rollup job runs. Built from the configuration (src/config.ts); the
 * defaults are the ones documented in README.md.
 */
import { DEFAULT_FUEL_SETTINGS, type FuelSettings } from '../domain/fuel/index.js';
import { DEFAULT_WORKING_HOURS, type WorkingHours } from '../domain/report-time.js';
import { DEFAULT_TRIP_SETTINGS, type TripSettings } from '../domain/trips.js';

export interface AnalyticsSettings {
  reportTz: string;
  trips: TripSettings;
  fuel: FuelSettings;
  workingHours: WorkingHours;
  /** Seconds between rollup runs. */
  rollupIntervalS: number;
  /** Seconds after start before the rollup job's first timed run (ingest catches up first). */
  rollupStartDelayS: number;
}

export const DEFAULT_ANALYTICS_SETTINGS: AnalyticsSettings = Object.freeze({
  reportTz: 'Asia/Makassar',
  trips: DEFAULT_TRIP_SETTINGS,
  fuel: DEFAULT_FUEL_SETTINGS,
  workingHours: DEFAULT_WORKING_HOURS,
  rollupIntervalS: 60,
  rollupStartDelayS: 30,
});
