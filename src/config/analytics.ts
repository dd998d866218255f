/** Trips, stops, fuel events, working hours and the daily rollup job. */
import { z } from 'zod';
import { DEFAULT_FUEL_SETTINGS } from '../domain/fuel/index.js';
import { parseHolidays, parseWorkingHours } from '../domain/report-time.js';
import { DEFAULT_TRIP_SETTINGS } from '../domain/trips.js';
import { flag, nonNegative } from './fields.js';

const workingHours = z.string().refine(
  (text) => {
    try {
      parseWorkingHours(text);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must look like "Mon-Fri 07:00-16:00"' },
);

const holidays = z.string().superRefine((text, ctx) => {
  try {
    parseHolidays(text);
  } catch (err) {
    ctx.addIssue({
      code: 'custom',
      message: `must list dates and ranges like "2026-12-25,2026-12-24/2026-12-26": ${(err as Error).message}`,
    });
  }
});

export const analyticsVariables = {
  REPORT_TRIP_MIN_DISTANCE_M: nonNegative
    .default(DEFAULT_TRIP_SETTINGS.minTripDistanceM)
    .describe(
      "A trip is confirmed once motion has covered this distance or lasted REPORT_TRIP_MIN_DURATION_S (Traccar's report.trip.*; a request may give its own)",
    ),
  REPORT_TRIP_MIN_DURATION_S: nonNegative
    .default(DEFAULT_TRIP_SETTINGS.minTripDurationS)
    .describe('A trip is confirmed once motion has lasted this long or covered REPORT_TRIP_MIN_DISTANCE_M'),
  REPORT_STOP_MIN_DURATION_S: nonNegative.default(DEFAULT_TRIP_SETTINGS.minStopDurationS).describe('Standing this long is a stop'),
  REPORT_TRIP_MIN_GAP_S: z.coerce
    .number()
    .min(1)
    .default(DEFAULT_TRIP_SETTINGS.minGapS)
    .describe('A gap in the data this long ends a trip'),
  REPORT_MOTION_MIN_SPEED_KMH: nonNegative
    .default(DEFAULT_TRIP_SETTINGS.minMotionSpeedKmh)
    .describe('A reading faster than this is moving'),
  REPORT_TRIP_USE_IGNITION: flag.default(false).describe('Ignition off confirms a stop at once; a reading with ignition off is not moving'),
  REPORT_IGNORE_ODOMETER: flag.default(false).describe('Measure distance from the GPS fixes even when devices report an odometer'),
  FUEL_REFUEL_MIN_LITRES: nonNegative
    .default(DEFAULT_FUEL_SETTINGS.refuelMinLitres)
    .describe('A refuel is at least this many litres, and FUEL_REFUEL_MIN_TANK_PERCENT of the tank'),
  FUEL_REFUEL_MIN_TANK_PERCENT: z.coerce
    .number()
    .min(0)
    .max(100)
    .default(DEFAULT_FUEL_SETTINGS.refuelMinTankPercent)
    .describe('A refuel is at least this share of the tank, in percent'),
  FUEL_DRAIN_MIN_LITRES: nonNegative
    .default(DEFAULT_FUEL_SETTINGS.drainMinLitres)
    .describe('A drain is at least this many litres, and FUEL_DRAIN_MIN_TANK_PERCENT of the tank'),
  FUEL_DRAIN_MIN_TANK_PERCENT: z.coerce
    .number()
    .min(0)
    .max(100)
    .default(DEFAULT_FUEL_SETTINGS.drainMinTankPercent)
    .describe('A drain is at least this share of the tank, in percent'),
  FUEL_EVENT_MERGE_S: nonNegative.default(DEFAULT_FUEL_SETTINGS.mergeGapS).describe('Refuels (or drains) closer than this are one'),
  WORKING_HOURS: workingHours
    .default('Mon-Fri 07:00-16:00')
    .describe('Official hours in REPORT_TZ; distance and use outside them is reported'),
  WORKING_HOLIDAYS: holidays
    .default('')
    .describe(
      'Days off whatever their weekday (public holidays, cuti bersama), as report days in REPORT_TZ: ISO dates and inclusive ranges, comma-separated (`2026-08-17,2026-12-24/2026-12-26`); use on them raises an outside-working-hours alert and counts as distance outside working hours. Set them each year: there is no built-in list',
    ),
  ROLLUP_INTERVAL_S: z.coerce
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(60)
    .describe('Seconds between runs of the daily rollup job (raise it for fleets over ~500 vehicles)'),
  ROLLUP_START_DELAY_S: z.coerce
    .number()
    .int()
    .min(0)
    .max(3600)
    .default(30)
    .describe(
      "Seconds after start before the rollup job's first run: after a restart the devices' buffered readings are taken first, the job's catch-up after",
    ),
};
