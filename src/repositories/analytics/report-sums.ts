/**
 * The fleet report's sums: each vehicle's rollups over a run of days, read from the month
 * rows for whole calendar months and from the day rows for the rest.
 */
import type { Database } from '../../db/client.js';
import { addDays, monthOf, nextMonth, wholeMonthsWithin, type LocalDay } from '../../domain/report-time.js';
import { DAY_AGGREGATES, MONTH_AGGREGATES } from './aggregates.js';
import { num, numOrNull } from './values.js';

/** Sums of one vehicle's rollups over a run of days (the fleet report). */
export interface RollupSums {
  vehicleId: string;
  days: number;
  activeDays: number;
  activeWithoutCounter: number;
  activeWithoutSensor: number;
  /** Active days measured by each source (the best that day had). */
  ratedDays: number;
  sensorDays: number;
  points: number;
  distanceKm: number;
  distanceOutsideHoursKm: number;
  drivingS: number;
  idleS: number;
  engineS: number;
  maxSpeedKmh: number;
  tripCount: number;
  fuelUsedLitres: number;
  counterLitres: number | null;
  sensorLitres: number | null;
  ratedLitres: number;
  idleLitres: number;
  counterIdleLitres: number;
  refuelCount: number;
  refuelLitres: number;
  drainCount: number;
  drainLitres: number;
}

function toSums(r: Record<string, unknown>): RollupSums {
  return {
    vehicleId: String(r.vehicle_id),
    days: num(r.days),
    activeDays: num(r.active_days),
    activeWithoutCounter: num(r.active_without_counter),
    activeWithoutSensor: num(r.active_without_sensor),
    ratedDays: num(r.rated_days),
    sensorDays: num(r.sensor_days),
    points: num(r.points),
    distanceKm: num(r.distance_km),
    distanceOutsideHoursKm: num(r.distance_outside_hours_km),
    drivingS: num(r.driving_s),
    idleS: num(r.idle_s),
    engineS: num(r.engine_s),
    maxSpeedKmh: num(r.max_speed_kmh),
    tripCount: num(r.trip_count),
    fuelUsedLitres: num(r.fuel_used_litres),
    counterLitres: numOrNull(r.counter_litres),
    sensorLitres: numOrNull(r.sensor_litres),
    ratedLitres: num(r.rated_litres),
    idleLitres: num(r.idle_litres),
    counterIdleLitres: numOrNull(r.counter_idle_litres) ?? 0,
    refuelCount: num(r.refuel_count),
    refuelLitres: num(r.refuel_litres),
    drainCount: num(r.drain_count),
    drainLitres: num(r.drain_litres),
  };
}

const addNullable = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : a + b);

function addSums(a: RollupSums, b: RollupSums): RollupSums {
  return {
    vehicleId: a.vehicleId,
    days: a.days + b.days,
    activeDays: a.activeDays + b.activeDays,
    activeWithoutCounter: a.activeWithoutCounter + b.activeWithoutCounter,
    activeWithoutSensor: a.activeWithoutSensor + b.activeWithoutSensor,
    ratedDays: a.ratedDays + b.ratedDays,
    sensorDays: a.sensorDays + b.sensorDays,
    points: a.points + b.points,
    distanceKm: a.distanceKm + b.distanceKm,
    distanceOutsideHoursKm: a.distanceOutsideHoursKm + b.distanceOutsideHoursKm,
    drivingS: a.drivingS + b.drivingS,
    idleS: a.idleS + b.idleS,
    engineS: a.engineS + b.engineS,
    maxSpeedKmh: Math.max(a.maxSpeedKmh, b.maxSpeedKmh),
    tripCount: a.tripCount + b.tripCount,
    fuelUsedLitres: a.fuelUsedLitres + b.fuelUsedLitres,
    counterLitres: addNullable(a.counterLitres, b.counterLitres),
    sensorLitres: addNullable(a.sensorLitres, b.sensorLitres),
    ratedLitres: a.ratedLitres + b.ratedLitres,
    idleLitres: a.idleLitres + b.idleLitres,
    counterIdleLitres: a.counterIdleLitres + b.counterIdleLitres,
    refuelCount: a.refuelCount + b.refuelCount,
    refuelLitres: a.refuelLitres + b.refuelLitres,
    drainCount: a.drainCount + b.drainCount,
    drainLitres: a.drainLitres + b.drainLitres,
  };
}

export function reportQueries(database: Database) {
  return {
    /**
     * Sums of the stored rollups per vehicle over [firstDay, lastDay], leaving out the
     * (vehicle, day) pairs the caller will compute from readings instead. Whole calendar
     * months come from the month rows; the days of partial months (and of months with a
     * day left out) from the day rows.
     */
    async rollupSums(
      vehicleIds: readonly string[],
      firstDay: LocalDay,
      lastDay: LocalDay,
      skip: ReadonlyArray<{ vehicleId: string; day: LocalDay }> = [],
    ): Promise<Map<string, RollupSums>> {
      const out = new Map<string, RollupSums>();
      if (vehicleIds.length === 0 || lastDay < firstDay) return out;
      const wholeMonths = wholeMonthsWithin(firstDay, lastDay);
      const skipMonths = [
        ...new Set(skip.filter((x) => wholeMonths.includes(monthOf(x.day))).map((x) => `${x.vehicleId}|${monthOf(x.day)}`)),
      ].map((key) => {
        const [vehicleId, month] = key.split('|') as [string, string];
        return { vehicleId, month };
      });
      const [months, days] = await Promise.all([
        wholeMonths.length === 0
          ? Promise.resolve([])
          : database.query(
              `SELECT vehicle_id, ${MONTH_AGGREGATES} FROM vehicle_month_rollups
                WHERE vehicle_id = ANY($1::uuid[]) AND month = ANY($2::date[])
                  AND NOT EXISTS (SELECT 1 FROM unnest($3::uuid[], $4::date[]) AS x(v, m) WHERE x.v = vehicle_id AND x.m = month)
                GROUP BY vehicle_id`,
              [vehicleIds, wholeMonths, skipMonths.map((x) => x.vehicleId), skipMonths.map((x) => x.month)],
            ),
        database.query(
          `WITH r AS (
             SELECT *, (distance_km > 0 OR engine_s > 0) AS active FROM vehicle_day_rollups d
              WHERE vehicle_id = ANY($1::uuid[])
                AND (day BETWEEN $2 AND $3 OR day BETWEEN $4 AND $5
                     OR (day BETWEEN $2 AND $5
                         AND EXISTS (SELECT 1 FROM unnest($8::uuid[], $9::date[]) AS x(v, m) WHERE x.v = d.vehicle_id AND x.m = date_trunc('month', d.day)::date)))
                AND NOT EXISTS (SELECT 1 FROM unnest($6::uuid[], $7::date[]) AS x(v, d) WHERE x.v = vehicle_id AND x.d = day))
           SELECT vehicle_id, ${DAY_AGGREGATES} FROM r GROUP BY vehicle_id`,
          [
            vehicleIds,
            firstDay,
            // The days before the first whole month, and after the last one (all of them without whole months).
            wholeMonths.length > 0 ? addDays(wholeMonths[0]!, -1) : lastDay,
            wholeMonths.length > 0 ? nextMonth(wholeMonths[wholeMonths.length - 1]!) : lastDay,
            lastDay,
            skip.map((x) => x.vehicleId),
            skip.map((x) => x.day),
            skipMonths.map((x) => x.vehicleId),
            skipMonths.map((x) => x.month),
          ],
        ),
      ]);
      for (const r of [...months, ...days]) {
        const sums = toSums(r);
        const seen = out.get(sums.vehicleId);
        out.set(sums.vehicleId, seen ? addSums(seen, sums) : sums);
      }
      return out;
    },
  };
}
