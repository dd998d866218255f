/**
 * The database schema: the single source of truth for tables and indexes.
 * `npm run db:generate` turns changes here into a new SQL migration in migrations/.
 *
 * One thing drizzle-kit cannot express: `telemetry` is range-partitioned by month on
 * `fix_at`. Its CREATE TABLE in migration 0000 carries `PARTITION BY RANGE (fix_at)`,
 * and the function `armada_ensure_telemetry_partition(ts)` creates month partitions
 * on demand (see src/repositories/telemetry.ts).
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  customType,
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

/** Raw bytes, exactly as received (a quarantined payload need not be valid UTF-8). */
const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const departments = pgTable(
  'departments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    code: text('code').notNull(),
    name: text('name').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('departments_code_key').on(t.code)],
);

export const vehicleKinds = ['car', 'pickup', 'truck', 'motorcycle', 'bus', 'ambulance', 'other'] as const;
export const fuelTypes = ['pertalite', 'pertamax', 'pertamax_turbo', 'solar', 'dexlite', 'pertamina_dex', 'electric'] as const;

export const vehicles = pgTable(
  'vehicles',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    plateNumber: text('plate_number').notNull(),
    departmentId: uuid('department_id')
      .notNull()
      .references(() => departments.id),
    kind: text('kind', { enum: vehicleKinds }).notNull(),
    fuelType: text('fuel_type', { enum: fuelTypes }).notNull(),
    tankCapacityLitres: real('tank_capacity_litres').notNull(),
    ratedLitresPer100Km: real('rated_litres_per_100km').notNull(),
    idleLitresPerHour: real('idle_litres_per_hour').notNull(),
    monthlyAllocationLitres: real('monthly_allocation_litres').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('vehicles_plate_number_key').on(t.plateNumber),
    index('vehicles_department_idx').on(t.departmentId),
    check('vehicles_tank_positive', sql`${t.tankCapacityLitres} > 0`),
  ],
);

export const deviceProtocols = ['armada', 'owntracks'] as const;

export const devices = pgTable(
  'devices',
  {
    /** The MQTT username; for OwnTracks devices `user/device`. */
    id: text('id').primaryKey(),
    vehicleId: uuid('vehicle_id')
      .notNull()
      .references(() => vehicles.id),
    protocol: text('protocol', { enum: deviceProtocols }).notNull().default('armada'),
    /** Mosquitto-compatible PBKDF2-SHA512 hash (`$7$…`), so one hash serves both brokers. */
    secretHash: text('secret_hash').notNull(),
    active: boolean('active').notNull().default(true),
    createdAt: createdAt(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }),
    /**
     * The device's `seq` counter: the lowest and highest value stored and how many
     * readings carried one. Missing readings = seqMax − seqFirst + 1 − seqReceived;
     * a late reading that fills a gap brings the figure back down.
     */
    seqFirst: bigint('seq_first', { mode: 'number' }),
    seqMax: bigint('seq_max', { mode: 'number' }),
    seqReceived: bigint('seq_received', { mode: 'number' }).notNull().default(0),
  },
  (t) => [index('devices_vehicle_idx').on(t.vehicleId)],
);

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
  },
  (t) => [index('quarantine_received_idx').on(t.receivedAt), index('quarantine_reason_idx').on(t.reason)],
);

export const apiKeyRoles = ['admin', 'manager', 'finance', 'viewer'] as const;

export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    role: text('role', { enum: apiKeyRoles }).notNull(),
    departmentId: uuid('department_id').references(() => departments.id),
    /** SHA-256 of the key: keys are 256-bit random, so a slow hash would add nothing. */
    keyHash: text('key_hash').notNull(),
    /** The first characters of the key, to tell keys apart in listings. */
    keyPrefix: text('key_prefix').notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('api_keys_key_hash_key').on(t.keyHash)],
);
