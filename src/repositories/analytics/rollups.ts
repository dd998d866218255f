/** The day rollup rows (one vehicle, one report day) and the month rows summed from them. */
import type { Queryable } from '../../db/client.js';
import type { WindowAnalysis } from '../../domain/analysis.js';
import type { FuelEvent, FuelSource } from '../../domain/fuel/index.js';
import type { LocalDay } from '../../domain/report-time.js';
import { DAY_AGGREGATES, MONTH_COLUMNS } from './aggregates.js';
import { iso, ms, num, numOrNull } from './values.js';

export interface RollupRow {
  vehicleId: string;
  day: LocalDay;
  points: number;
  distanceKm: number;
  distanceOutsideHoursKm: number;
  drivingS: number;
  idleS: number;
  engineS: number;
  maxSpeedKmh: number;
  tripCount: number;
  fuelSource: FuelSource;
  fuelUsedLitres: number;
  counterLitres: number | null;
  sensorLitres: number | null;
  ratedLitres: number;
  idleLitres: number;
  refuelCount: number;
  refuelLitres: number;
  drainCount: number;
  drainLitres: number;
  startLevelLitres: number | null;
  endLevelLitres: number | null;
  computedAt: Date;
}

function toRollup(r: Record<string, unknown>): RollupRow {
  return {
    vehicleId: String(r.vehicle_id),
    day: String(r.day),
    points: num(r.points),
    distanceKm: num(r.distance_km),
    distanceOutsideHoursKm: num(r.distance_outside_hours_km),
    drivingS: num(r.driving_s),
    idleS: num(r.idle_s),
    engineS: num(r.engine_s),
    maxSpeedKmh: num(r.max_speed_kmh),
    tripCount: num(r.trip_count),
    fuelSource: r.fuel_source as FuelSource,
    fuelUsedLitres: num(r.fuel_used_litres),
    counterLitres: numOrNull(r.counter_litres),
    sensorLitres: numOrNull(r.sensor_litres),
    ratedLitres: num(r.rated_litres),
    idleLitres: num(r.idle_litres),
    refuelCount: num(r.refuel_count),
    refuelLitres: num(r.refuel_litres),
    drainCount: num(r.drain_count),
    drainLitres: num(r.drain_litres),
    startLevelLitres: numOrNull(r.start_level_litres),
    endLevelLitres: numOrNull(r.end_level_litres),
    computedAt: new Date(ms(r.computed_at)),
  };
}

/** Writes (or replaces) the day's rollup row from its analysis. */
export async function upsertDayRollup(
  tx: Queryable,
  vehicleId: string,
  day: LocalDay,
  a: WindowAnalysis,
  computedAtMs: number,
): Promise<void> {
  const m = a.metrics;
  const f = a.fuel;
  const sum = (events: readonly FuelEvent[]) => events.reduce((s, e) => s + e.litres, 0);
  await tx.query(
    `INSERT INTO vehicle_day_rollups (vehicle_id, day, points, distance_km, distance_outside_hours_km, driving_s, idle_s, engine_s,
       max_speed_kmh, trip_count, fuel_source, fuel_used_litres, counter_litres, sensor_litres, rated_litres, idle_litres,
       refuel_count, refuel_litres, drain_count, drain_litres, start_level_litres, end_level_litres, first_fix_at, last_fix_at, computed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)
     ON CONFLICT (vehicle_id, day) DO UPDATE SET
       points = excluded.points, distance_km = excluded.distance_km, distance_outside_hours_km = excluded.distance_outside_hours_km,
       driving_s = excluded.driving_s, idle_s = excluded.idle_s, engine_s = excluded.engine_s, max_speed_kmh = excluded.max_speed_kmh,
       trip_count = excluded.trip_count, fuel_source = excluded.fuel_source, fuel_used_litres = excluded.fuel_used_litres,
       counter_litres = excluded.counter_litres, sensor_litres = excluded.sensor_litres, rated_litres = excluded.rated_litres,
       idle_litres = excluded.idle_litres, refuel_count = excluded.refuel_count, refuel_litres = excluded.refuel_litres,
       drain_count = excluded.drain_count, drain_litres = excluded.drain_litres, start_level_litres = excluded.start_level_litres,
       end_level_litres = excluded.end_level_litres, first_fix_at = excluded.first_fix_at, last_fix_at = excluded.last_fix_at,
       computed_at = excluded.computed_at`,
    [
      vehicleId,
      day,
      m.points,
      m.distanceM / 1000,
      m.distanceOutsideHoursM / 1000,
      m.drivingS,
      m.idleS,
      m.engineS,
      m.maxSpeedKmh,
      a.segments.filter((s) => s.kind === 'trip' && !s.clippedStart).length,
      f.source,
      f.usedLitres,
      f.counterLitres,
      f.sensorLitres,
      f.ratedLitres,
      f.idleLitres,
      f.refuels.length,
      sum(f.refuels),
      f.drains.length,
      sum(f.drains),
      f.startLevelLitres,
      f.endLevelLitres,
      m.firstFixMs === null ? null : iso(m.firstFixMs),
      m.lastFixMs === null ? null : iso(m.lastFixMs),
      iso(computedAtMs),
    ],
  );
}

export async function deleteDayRollup(tx: Queryable, vehicleId: string, day: LocalDay): Promise<void> {
  await tx.query('DELETE FROM vehicle_day_rollups WHERE vehicle_id = $1 AND day = $2', [vehicleId, day]);
}

/** The day rows of [firstDay, lastDay], by day. */
export async function readDayRollups(
  tx: Queryable,
  vehicleId: string,
  firstDay: LocalDay,
  lastDay: LocalDay,
): Promise<Map<LocalDay, RollupRow>> {
  const rows = await tx.query(`SELECT *, day::text AS day FROM vehicle_day_rollups WHERE vehicle_id = $1 AND day BETWEEN $2 AND $3`, [
    vehicleId,
    firstDay,
    lastDay,
  ]);
  return new Map(rows.map((r) => [String(r.day), toRollup(r)]));
}

/** Rewrites a vehicle's month row from its day rows (none left: no row). */
export async function refreshMonth(tx: Queryable, vehicleId: string, month: LocalDay): Promise<void> {
  await tx.query('DELETE FROM vehicle_month_rollups WHERE vehicle_id = $1 AND month = $2', [vehicleId, month]);
  await tx.query(
    `INSERT INTO vehicle_month_rollups (vehicle_id, month, ${MONTH_COLUMNS})
     SELECT vehicle_id, $2::date, ${DAY_AGGREGATES}
       FROM (SELECT *, (distance_km > 0 OR engine_s > 0) AS active FROM vehicle_day_rollups
              WHERE vehicle_id = $1 AND day >= $2::date AND day < ($2::date + interval '1 month')) AS r
      GROUP BY vehicle_id`,
    [vehicleId, month],
  );
}

/**
 * Rewrites every month row from the day rows. The lock makes a rollup run that refreshes a
 * month meanwhile wait (or be waited for): without it, a month row it inserted between the
 * DELETE and the INSERT below would collide with the rebuilt one.
 */
export async function rebuildMonths(tx: Queryable): Promise<void> {
  await tx.query('LOCK TABLE vehicle_month_rollups IN SHARE ROW EXCLUSIVE MODE');
  await tx.query('DELETE FROM vehicle_month_rollups');
  await tx.query(
    `INSERT INTO vehicle_month_rollups (vehicle_id, month, ${MONTH_COLUMNS})
     SELECT vehicle_id, date_trunc('month', day)::date, ${DAY_AGGREGATES}
       FROM (SELECT *, (distance_km > 0 OR engine_s > 0) AS active FROM vehicle_day_rollups) AS r
      GROUP BY vehicle_id, date_trunc('month', day)`,
  );
}
