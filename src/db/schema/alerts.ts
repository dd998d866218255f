/** Alerts, the geofences that raise some of them, and the departments' own working hours for the outside-hours alert. */
import { sql } from 'drizzle-orm';
import { bigserial, check, doublePrecision, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { createdAt } from './columns.js';
import { departments, vehicles } from './fleet.js';

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

/** Areas a vehicle should stay in; leaving one raises an alert. GeoJSON Polygon or MultiPolygon. */
export const geofences = pgTable(
  'geofences',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    /** Null: applies to every department's vehicles. */
    departmentId: uuid('department_id').references(() => departments.id),
    geometry: jsonb('geometry').notNull().$type<import('../../domain/geofence.js').GeofenceGeometry>(),
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
