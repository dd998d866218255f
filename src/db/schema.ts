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
  numeric,
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
    /** This vehicle's own speed limit for alerts; null: the fleet-wide SPEED_LIMIT_KMH. */
    speedLimitKmh: real('speed_limit_kmh'),
    /** Ambulances, fire and disaster response: driving outside working hours is their job, not an alert. */
    outsideHoursExempt: boolean('outside_hours_exempt').notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('vehicles_plate_number_key').on(t.plateNumber),
    index('vehicles_department_idx').on(t.departmentId),
    check('vehicles_tank_positive', sql`${t.tankCapacityLitres} > 0`),
  ],
);

/**
 * A department's own working hours for the outside-hours alert (REPORT_TZ wall clock);
 * a department without a row uses WORKING_HOURS. ISO weekdays, 1 = Monday … 7 = Sunday;
 * minutes after local midnight, [startMin, endMin).
 */
export const departmentAlertRules = pgTable(
  'department_alert_rules',
  {
    departmentId: uuid('department_id')
      .primaryKey()
      .references(() => departments.id),
    weekdays: integer('weekdays').array().notNull(),
    startMin: integer('start_min').notNull(),
    endMin: integer('end_min').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('department_alert_rules_window', sql`${t.startMin} >= 0 AND ${t.startMin} < ${t.endMin} AND ${t.endMin} <= 1440`),
    check('department_alert_rules_weekdays', sql`cardinality(${t.weekdays}) BETWEEN 1 AND 7 AND ${t.weekdays} <@ ARRAY[1,2,3,4,5,6,7]`),
  ],
);

export const deviceProtocols = ['armada', 'owntracks'] as const;

export const devices = pgTable(
  'devices',
  {
    /** Also its MQTT username; an OwnTracks device is `user/device`, and its phone connects as `user` (src/domain/topics.ts). */
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

/**
 * admin: everything. manager: its department's fleet, vouchers, read-only finance reports.
 * finance: the ledger, prices, stations, allocations, budgets, closing, reconciliation.
 * auditor: reads everything finance reads and writes nothing (the inspectorate). viewer: reads.
 */
export const apiKeyRoles = ['admin', 'manager', 'finance', 'auditor', 'viewer'] as const;

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
    /** From this time on the key is refused like a revoked one; null: it does not expire. */
    expiresAt: timestamp('expires_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('api_keys_key_hash_key').on(t.keyHash)],
);

// ---------------------------------------------------------------------------------
// Analytics (issue 5): per vehicle and report day (REPORT_TZ), written by the rollup job
// (src/analytics/rollup-job.ts) and read by the trip, fuel and fleet reports.

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

/** Areas a vehicle should stay in; leaving one raises an alert. GeoJSON Polygon or MultiPolygon. */
export const geofences = pgTable(
  'geofences',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    /** Null: applies to every department's vehicles. */
    departmentId: uuid('department_id').references(() => departments.id),
    geometry: jsonb('geometry').notNull().$type<import('../domain/geofence.js').GeofenceGeometry>(),
    createdAt: createdAt(),
  },
  (t) => [index('geofences_department_idx').on(t.departmentId)],
);

export const alerts = pgTable(
  'alerts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull(),
    vehicleId: uuid('vehicle_id')
      .notNull()
      .references(() => vehicles.id),
    departmentId: uuid('department_id').notNull(),
    /** When it happened (the fix time of the reading that raised it). */
    at: timestamp('at', { withTimezone: true }).notNull(),
    lat: doublePrecision('lat'),
    lon: doublePrecision('lon'),
    message: text('message').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
    acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true }),
    acknowledgedByKeyId: uuid('acknowledged_by_key_id'),
    acknowledgedNote: text('acknowledged_note'),
  },
  (t) => [index('alerts_department_at_idx').on(t.departmentId, t.at), index('alerts_vehicle_at_idx').on(t.vehicleId, t.at)],
);

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

// ---------------------------------------------------------------------------------
// Finance (issue 11): prices, stations, allocations, budgets, the purchase ledger, vouchers,
// reconciliation verdicts, month closing and the audit log. Rupiah are integers (bigint);
// ledger litres are exact decimals (numeric, read as strings, never floats).

/** Litres with three decimals (a pump shows two; a statement may show three). */
const litres = (name: string) => numeric(name, { precision: 12, scale: 3 });
/** Whole rupiah. */
const rupiah = (name: string) => bigint(name, { mode: 'bigint' });

/** The price of a fuel from a local date (REPORT_TZ) on; never edited: a new price has a later validFrom. */
export const fuelPrices = pgTable(
  'fuel_prices',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    fuelType: text('fuel_type', { enum: fuelTypes }).notNull(),
    priceIdrPerLitre: rupiah('price_idr_per_litre').notNull(),
    validFrom: date('valid_from').notNull(),
    /** Where the figure comes from (a published price list, a decree). */
    source: text('source'),
    createdAt: createdAt(),
    createdByKeyId: uuid('created_by_key_id'),
  },
  (t) => [
    uniqueIndex('fuel_prices_type_from_key').on(t.fuelType, t.validFrom),
    check('fuel_prices_positive', sql`${t.priceIdrPerLitre} > 0`),
  ],
);

/** The register of filling stations (SPBU), by their number such as `54.851.01`. */
export const fuelStations = pgTable(
  'fuel_stations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    code: text('code').notNull(),
    name: text('name').notNull(),
    lat: doublePrecision('lat').notNull(),
    lon: doublePrecision('lon').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('fuel_stations_code_key').on(t.code)],
);

/**
 * A vehicle's monthly fuel allocation from a month on (its first day, REPORT_TZ). The
 * allocation in force for a month is the one with the latest fromMonth not after it; a
 * vehicle's first allocation applies from the beginning.
 */
export const vehicleAllocations = pgTable(
  'vehicle_allocations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    vehicleId: uuid('vehicle_id')
      .notNull()
      .references(() => vehicles.id),
    litres: litres('litres').notNull(),
    fromMonth: date('from_month').notNull(),
    createdAt: createdAt(),
    createdByKeyId: uuid('created_by_key_id'),
  },
  (t) => [
    uniqueIndex('vehicle_allocations_vehicle_month_key').on(t.vehicleId, t.fromMonth),
    check('vehicle_allocations_nonneg', sql`${t.litres} >= 0`),
  ],
);

/** A department's fuel budget for a calendar year, in rupiah. */
export const departmentBudgets = pgTable(
  'department_budgets',
  {
    departmentId: uuid('department_id')
      .notNull()
      .references(() => departments.id),
    year: integer('year').notNull(),
    amountIdr: rupiah('amount_idr').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.departmentId, t.year], name: 'department_budgets_pkey' }),
    check('department_budgets_nonneg', sql`${t.amountIdr} >= 0`),
  ],
);

export const ledgerEntryKinds = ['purchase', 'void'] as const;

/**
 * The purchase ledger: append-only (a trigger refuses UPDATE, DELETE and TRUNCATE) and
 * hash-chained in `seq` order. A purchase is corrected by a `void` entry naming it.
 */
export const fuelPurchases = pgTable(
  'fuel_purchases',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** The chain's order: entries are appended under a lock, so seq has no gaps in use. */
    seq: bigint('seq', { mode: 'number' }).notNull(),
    kind: text('kind', { enum: ledgerEntryKinds }).notNull(),
    /** For a void: the purchase it voids (at most one void per purchase). */
    voidsId: uuid('voids_id'),
    reason: text('reason'),
    vehicleId: uuid('vehicle_id')
      .notNull()
      .references(() => vehicles.id),
    /** The vehicle's department when the entry was made (scope and reports). */
    departmentId: uuid('department_id').notNull(),
    /** When fuel was bought (UTC). For a void, the purchase's own time. */
    at: timestamp('at', { withTimezone: true }).notNull(),
    litres: litres('litres').notNull(),
    amountIdr: rupiah('amount_idr').notNull(),
    fuelType: text('fuel_type', { enum: fuelTypes }).notNull(),
    stationCode: text('station_code'),
    lat: doublePrecision('lat'),
    lon: doublePrecision('lon'),
    receiptNo: text('receipt_no'),
    odometerKm: doublePrecision('odometer_km'),
    voucherCode: text('voucher_code'),
    /** Where it came from: `api`, `import` (a fuel-card statement), `simulator`, `seed`. */
    source: text('source').notNull().default('api'),
    idempotencyKey: text('idempotency_key'),
    /** SHA-256 (hex) of the request's canonical body, to tell a replay from a conflicting reuse of a key. */
    requestSha256: text('request_sha256'),
    /** Facts known when it was written, e.g. `duplicate_receipt`. */
    entryFlags: jsonb('entry_flags').$type<Array<{ kind: string; detail: string }>>().notNull().default([]),
    createdAt: createdAt(),
    createdByKeyId: uuid('created_by_key_id'),
    createdByKeyName: text('created_by_key_name'),
    /** Hex SHA-256 of the previous entry's hash and this entry's canonical content. */
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [
    uniqueIndex('fuel_purchases_seq_key').on(t.seq),
    uniqueIndex('fuel_purchases_voids_key').on(t.voidsId),
    uniqueIndex('fuel_purchases_idempotency_key').on(t.idempotencyKey),
    index('fuel_purchases_vehicle_at_idx').on(t.vehicleId, t.at),
    index('fuel_purchases_department_at_idx').on(t.departmentId, t.at),
    index('fuel_purchases_receipt_idx').on(t.vehicleId, t.receiptNo),
    check('fuel_purchases_litres_positive', sql`${t.litres} > 0`),
    check('fuel_purchases_amount_nonneg', sql`${t.amountIdr} >= 0`),
  ],
);

/** Fuel vouchers: a grant of litres to a vehicle, redeemed by a purchase naming its code. */
export const fuelVouchers = pgTable(
  'fuel_vouchers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    code: text('code').notNull(),
    vehicleId: uuid('vehicle_id')
      .notNull()
      .references(() => vehicles.id),
    departmentId: uuid('department_id').notNull(),
    requestedLitres: litres('requested_litres'),
    grantedLitres: litres('granted_litres').notNull(),
    /** Why less than asked was granted (a reason code), or null. */
    limitedBy: text('limited_by'),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdByKeyId: uuid('created_by_key_id'),
  },
  (t) => [uniqueIndex('fuel_vouchers_code_key').on(t.code), index('fuel_vouchers_vehicle_idx').on(t.vehicleId, t.createdAt)],
);

export const verdictStatuses = ['pending', 'matched', 'flagged', 'unverifiable'] as const;

/**
 * The reconciliation's judgement of each purchase (receipt ↔ tank ↔ position), kept so a
 * settled flag raises its alert once. Recomputed while pending, and when the vehicle's
 * analytics change after it settled.
 */
export const purchaseVerdicts = pgTable('purchase_verdicts', {
  purchaseId: uuid('purchase_id').primaryKey(),
  vehicleId: uuid('vehicle_id').notNull(),
  status: text('status', { enum: verdictStatuses }).notNull(),
  flags: jsonb('flags').$type<Array<{ kind: string; detail: string }>>().notNull(),
  refuel: jsonb('refuel').$type<{ at: string; litres: number; lat: number; lon: number } | null>(),
  judgedAt: timestamp('judged_at', { withTimezone: true }).notNull(),
  settledAt: timestamp('settled_at', { withTimezone: true }),
  /** The flag kinds already raised as alerts. */
  alertedKinds: jsonb('alerted_kinds').$type<string[]>().notNull().default([]),
});

/** A closed month: its reports as signed, frozen. Later data for it shows as adjustments in the next open month. */
export const monthClosings = pgTable('month_closings', {
  month: date('month').primaryKey(),
  closedAt: timestamp('closed_at', { withTimezone: true }).notNull().defaultNow(),
  closedByKeyId: uuid('closed_by_key_id'),
  closedByKeyName: text('closed_by_key_name'),
  /** The savings and reconciliation reports of every department as they were at closing. */
  snapshot: jsonb('snapshot').$type<Record<string, unknown>>().notNull(),
});

/** Who changed what in finance and access: append-only like the ledger. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    keyId: uuid('key_id'),
    keyName: text('key_name'),
    action: text('action').notNull(),
    entity: text('entity').notNull(),
    entityId: text('entity_id'),
    departmentId: uuid('department_id'),
    before: jsonb('before'),
    after: jsonb('after'),
  },
  (t) => [index('audit_log_at_idx').on(t.at), index('audit_log_entity_idx').on(t.entity, t.entityId)],
);
