/**
 * What the trackers send: the readings, the days that received late ones, each vehicle's
 * newest fix, and the quarantine of messages that could not be stored as readings.
 *
 * One thing drizzle-kit cannot express: `telemetry` is range-partitioned by month on
 * `fix_at`. Its CREATE TABLE in migration 0000 carries `PARTITION BY RANGE (fix_at)`,
 * and the function `armada_ensure_telemetry_partition(ts)` creates month partitions
 * on demand (see src/repositories/telemetry.ts).
 */
import {
  bigint,
  bigserial,
  boolean,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { bytea } from './columns.js';
import { vehicles } from './fleet.js';

export const telemetry = pgTable(
  'telemetry',
  {
    vehicleId: uuid('vehicle_id').notNull(),
    deviceId: text('device_id').notNull(),
    fixAt: timestamp('fix_at', { withTimezone: true }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull(),
    lat: doublePrecision('lat').notNull(),
    lon: doublePrecision('lon').notNull(),
    speedKmh: real('speed_kmh'),
    headingDeg: real('heading_deg'),
    altitudeM: real('altitude_m'),
    satellites: smallint('satellites'),
    hdop: real('hdop'),
    ignition: boolean('ignition'),
    odometerKm: doublePrecision('odometer_km'),
    fuelLitres: real('fuel_litres'),
    fuelPercent: real('fuel_percent'),
    fuelUsedLitres: doublePrecision('fuel_used_litres'),
    batteryV: real('battery_v'),
    seq: bigint('seq', { mode: 'number' }),
    attributes: jsonb('attributes').$type<Record<string, unknown>>(),
  },
  (t) => [primaryKey({ columns: [t.vehicleId, t.fixAt], name: 'telemetry_pkey' })],
);

/**
 * Past report days (in REPORT_TZ) that received readings after the day was over: the
 * daily rollups of those vehicle-days must be recomputed. Written by ingest, cleared
 * by whoever recomputes them.
 */
export const telemetryLateDays = pgTable(
  'telemetry_late_days',
  {
    vehicleId: uuid('vehicle_id').notNull(),
    day: date('day').notNull(),
    markedAt: timestamp('marked_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.vehicleId, t.day], name: 'telemetry_late_days_pkey' })],
);

/**
 * Telemetry month partitions dropped by the retention (src/ops/retention.ts), one row per
 * month, written in the transaction that drops it. `kept_from` is the ingest horizon:
 * readings before the newest row's are quarantined as `beyond_retention`, and
 * armada_ensure_telemetry_partition refuses to recreate a month listed here (0011).
 */
export const telemetryDroppedMonths = pgTable('telemetry_dropped_months', {
  /** The first day of the dropped UTC month. */
  month: date('month').primaryKey(),
  partitionName: text('partition_name').notNull(),
  /** Readings older than this are no longer taken (a little after the month's end: whole report days). */
  keptFrom: timestamp('kept_from', { withTimezone: true }).notNull(),
  /** The planner's row estimate of the partition when it was dropped. */
  approxRows: bigint('approx_rows', { mode: 'number' }).notNull(),
  bytes: bigint('bytes', { mode: 'number' }).notNull(),
  droppedAt: timestamp('dropped_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Each vehicle's newest fix; only ever replaced by a reading with a later fix time. */
export const vehicleLatest = pgTable('vehicle_latest', {
  vehicleId: uuid('vehicle_id')
    .primaryKey()
    .references(() => vehicles.id),
  deviceId: text('device_id').notNull(),
  fixAt: timestamp('fix_at', { withTimezone: true }).notNull(),
  receivedAt: timestamp('received_at', { withTimezone: true }).notNull(),
  lat: doublePrecision('lat').notNull(),
  lon: doublePrecision('lon').notNull(),
  speedKmh: real('speed_kmh'),
  headingDeg: real('heading_deg'),
  fuelLitres: real('fuel_litres'),
  fuelPercent: real('fuel_percent'),
  ignition: boolean('ignition'),
  batteryV: real('battery_v'),
});

/**
 * Device counters committed with their readings but not yet added to `devices`: one row
 * per stored batch, written in the batch's own transaction. The ingest worker adds them
 * to `devices` (and refreshes `vehicle_latest`) about once a second and deletes the rows
 * it added in the same statement, so each row counts exactly once, even when a worker
 * died before it could: any worker starting, or sweeping rows older than half a minute,
 * adds them instead (src/ingest/state-behind.ts).
 */
export const ingestUnflushed = pgTable('ingest_unflushed', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  /**
   * The batch's figures per device, as JSON text: `[[deviceId, seenAtMs, seqMin, seqMax,
   * seqCount], …]` (the newest receive time, and the seq figures of its stored readings).
   * Stored uncompressed (migration 0012): it is written for every batch and read rarely.
   */
  figures: text('figures').notNull(),
});

export const quarantine = pgTable(
  'quarantine',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    topic: text('topic').notNull(),
    deviceId: text('device_id'),
    reason: text('reason').notNull(),
    detail: text('detail'),
    /** The raw payload, cut at QUARANTINE_PAYLOAD_MAX_BYTES; `payloadBytes` is its real size. */
    payload: bytea('payload').notNull(),
    payloadBytes: integer('payload_bytes').notNull(),
    /**
     * SHA-256 of the whole payload. The same payload on the same topic for the same reason
     * (a redelivery, a device repeating itself) is one row, seen `timesSeen` times, the
     * last at `lastReceivedAt` (what the list filters and sorts on). The hash is null for
     * rows from before migration 0007.
     */
    payloadSha256: bytea('payload_sha256'),
    timesSeen: integer('times_seen').notNull().default(1),
    lastReceivedAt: timestamp('last_received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('quarantine_received_idx').on(t.receivedAt),
    index('quarantine_last_received_idx').on(t.lastReceivedAt),
    index('quarantine_reason_idx').on(t.reason),
    uniqueIndex('quarantine_payload_key').on(t.topic, t.reason, t.payloadSha256),
  ],
);
