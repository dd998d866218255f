/**
 * Analytics (issue 5): per vehicle and report day (REPORT_TZ), written by the rollup job
 * (src/analytics/rollup-job.ts) and read by the trip, fuel and fleet reports; and the same
 * summed per calendar month.
 */
import {
  boolean,
  date,
  doublePrecision,
  index,
  integer,
  pgTable,
  primaryKey,
  real,
  smallint,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { vehicles } from './fleet.js';

export const fuelSources = ['counter', 'sensor', 'rated'] as const;

/** One vehicle's figures for one report day. */
export const vehicleDayRollups = pgTable(
  'vehicle_day_rollups',
  {
    vehicleId: uuid('vehicle_id')
      .notNull()
      .references(() => vehicles.id),
    day: date('day').notNull(),
    points: integer('points').notNull(),
    distanceKm: doublePrecision('distance_km').notNull(),
    distanceOutsideHoursKm: doublePrecision('distance_outside_hours_km').notNull(),
    drivingS: doublePrecision('driving_s').notNull(),
    idleS: doublePrecision('idle_s').notNull(),
    engineS: doublePrecision('engine_s').notNull(),
    maxSpeedKmh: real('max_speed_kmh').notNull(),
    tripCount: integer('trip_count').notNull(),
    /** The best source that measured this day; the litres of each are kept below. */
    fuelSource: text('fuel_source', { enum: fuelSources }).notNull(),
    fuelUsedLitres: doublePrecision('fuel_used_litres').notNull(),
    /** null: no counter (or level sensor) readings that day. */
    counterLitres: doublePrecision('counter_litres'),
    sensorLitres: doublePrecision('sensor_litres'),
    ratedLitres: doublePrecision('rated_litres').notNull(),
    idleLitres: doublePrecision('idle_litres').notNull(),
    refuelCount: integer('refuel_count').notNull(),
    refuelLitres: doublePrecision('refuel_litres').notNull(),
    drainCount: integer('drain_count').notNull(),
    drainLitres: doublePrecision('drain_litres').notNull(),
    startLevelLitres: real('start_level_litres'),
    endLevelLitres: real('end_level_litres'),
    firstFixAt: timestamp('first_fix_at', { withTimezone: true }),
    lastFixAt: timestamp('last_fix_at', { withTimezone: true }),
    /** When the job computed it: readings received after this are not in it. */
    computedAt: timestamp('computed_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.vehicleId, t.day], name: 'vehicle_day_rollups_pkey' }), index('vehicle_day_rollups_day_idx').on(t.day)],
);

/** The trips and stops of a report day, cut at its midnights (`clipped_*`) and joined again when read. */
export const vehicleDaySegments = pgTable(
  'vehicle_day_segments',
  {
    vehicleId: uuid('vehicle_id').notNull(),
    day: date('day').notNull(),
    seq: smallint('seq').notNull(),
    kind: text('kind', { enum: ['trip', 'stop'] }).notNull(),
    startAt: timestamp('start_at', { withTimezone: true }).notNull(),
    endAt: timestamp('end_at', { withTimezone: true }).notNull(),
    clippedStart: boolean('clipped_start').notNull(),
    clippedEnd: boolean('clipped_end').notNull(),
    distanceKm: doublePrecision('distance_km').notNull(),
    maxSpeedKmh: real('max_speed_kmh').notNull(),
    fuelUsedLitres: doublePrecision('fuel_used_litres').notNull(),
    startLat: doublePrecision('start_lat').notNull(),
    startLon: doublePrecision('start_lon').notNull(),
    endLat: doublePrecision('end_lat').notNull(),
    endLon: doublePrecision('end_lon').notNull(),
    drivingS: doublePrecision('driving_s').notNull(),
    idleS: doublePrecision('idle_s').notNull(),
    engineOnS: doublePrecision('engine_on_s').notNull(),
  },
  (t) => [primaryKey({ columns: [t.vehicleId, t.day, t.seq], name: 'vehicle_day_segments_pkey' })],
);

/** Refuels and drains found in the tank level, by the day they began. */
export const vehicleFuelEvents = pgTable(
  'vehicle_fuel_events',
  {
    vehicleId: uuid('vehicle_id').notNull(),
    day: date('day').notNull(),
    seq: smallint('seq').notNull(),
    kind: text('kind', { enum: ['refuel', 'drain'] }).notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    endAt: timestamp('end_at', { withTimezone: true }).notNull(),
    lat: doublePrecision('lat').notNull(),
    lon: doublePrecision('lon').notNull(),
    litres: doublePrecision('litres').notNull(),
    levelBeforeLitres: real('level_before_litres').notNull(),
    levelAfterLitres: real('level_after_litres').notNull(),
    moving: boolean('moving').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.vehicleId, t.day, t.seq], name: 'vehicle_fuel_events_pkey' }),
    index('vehicle_fuel_events_at_idx').on(t.vehicleId, t.at),
  ],
);

/** Where the rollup job stands with each vehicle. */
export const analyticsVehicleState = pgTable('analytics_vehicle_state', {
  vehicleId: uuid('vehicle_id')
    .primaryKey()
    .references(() => vehicles.id),
  /** The newest `devices.last_seen_at` of the vehicle's trackers when it was last computed. */
  seenAt: timestamp('seen_at', { withTimezone: true }),
  /** When the job last computed the vehicle's current days (its run's start). */
  computedAt: timestamp('computed_at', { withTimezone: true }).notNull(),
});

/**
 * The daily rollups summed per vehicle and calendar month (REPORT_TZ), rewritten with
 * the days: a year's fleet report reads 12 rows per vehicle instead of 365.
 */
export const vehicleMonthRollups = pgTable(
  'vehicle_month_rollups',
  {
    vehicleId: uuid('vehicle_id')
      .notNull()
      .references(() => vehicles.id),
    /** The month's first day. */
    month: date('month').notNull(),
    days: integer('days').notNull(),
    activeDays: integer('active_days').notNull(),
    activeWithoutCounter: integer('active_without_counter').notNull(),
    activeWithoutSensor: integer('active_without_sensor').notNull(),
    ratedDays: integer('rated_days').notNull(),
    sensorDays: integer('sensor_days').notNull(),
    points: doublePrecision('points').notNull(),
    distanceKm: doublePrecision('distance_km').notNull(),
    distanceOutsideHoursKm: doublePrecision('distance_outside_hours_km').notNull(),
    drivingS: doublePrecision('driving_s').notNull(),
    idleS: doublePrecision('idle_s').notNull(),
    engineS: doublePrecision('engine_s').notNull(),
    maxSpeedKmh: doublePrecision('max_speed_kmh').notNull(),
    tripCount: doublePrecision('trip_count').notNull(),
    fuelUsedLitres: doublePrecision('fuel_used_litres').notNull(),
    counterLitres: doublePrecision('counter_litres'),
    sensorLitres: doublePrecision('sensor_litres'),
    ratedLitres: doublePrecision('rated_litres').notNull(),
    idleLitres: doublePrecision('idle_litres').notNull(),
    counterIdleLitres: doublePrecision('counter_idle_litres').notNull(),
    refuelCount: doublePrecision('refuel_count').notNull(),
    refuelLitres: doublePrecision('refuel_litres').notNull(),
    drainCount: doublePrecision('drain_count').notNull(),
    drainLitres: doublePrecision('drain_litres').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.vehicleId, t.month], name: 'vehicle_month_rollups_pkey' }),
    index('vehicle_month_rollups_month_idx').on(t.month),
  ],
);
