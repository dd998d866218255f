/** The fleet: departments, their vehicles, and the trackers (devices) fitted to them. */
import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, pgTable, real, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt } from './columns.js';

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
