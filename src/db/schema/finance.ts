/**
 * Finance (issue 11): prices, stations, allocations, budgets, the purchase ledger, vouchers,
 * reconciliation verdicts, month closing and the audit log. Rupiah are integers (bigint);
 * ledger litres are exact decimals (numeric, read as strings, never floats).
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  check,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { createdAt, litres, rupiah } from './columns.js';
import { departments, fuelTypes, vehicles } from './fleet.js';

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
