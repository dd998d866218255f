/**
 * What the savings report reads besides the ledger: allocations in force, department
 * budgets, the month rollups (litres used by their best source) and each vehicle-month's
 * first and last tank level. A year for a whole fleet is a handful of queries.
 */
import type { Database } from '../../db/client.js';
import { parseLitres } from '../../domain/finance/money.js';

export interface AllocationRow {
  vehicleId: string;
  fromMonth: string;
  litresMl: bigint;
}

export interface MonthUse {
  vehicleId: string;
  month: string;
  activeDays: number;
  activeWithoutCounter: number;
  activeWithoutSensor: number;
  ratedDays: number;
  sensorDays: number;
  counterLitres: number | null;
  sensorLitres: number | null;
  ratedLitres: number;
  fuelUsedLitres: number;
  idleLitres: number;
  /** The tank level at the start of the month's first day with one and at the end of its last (null: no level). */
  levels: { start: number; end: number } | null;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));

export function savingsRepository(database: Database) {
  return {
    /** Every allocation of these vehicles, oldest first. */
    async allocations(vehicleIds: readonly string[]): Promise<AllocationRow[]> {
      if (vehicleIds.length === 0) return [];
      const rows = await database.query(
        `SELECT vehicle_id, from_month::text AS from_month, litres::text AS litres FROM vehicle_allocations WHERE vehicle_id =
          ANY($1::uuid[]) ORDER BY vehicle_id, from_month`,
        [vehicleIds],
      );
      return rows.map((r) => ({
        vehicleId: String(r.vehicle_id),
        fromMonth: String(r.from_month).slice(0, 7),
        litresMl: parseLitres(String(r.litres)),
      }));
    },

    /**
     * What the ledger says was bought, summed per vehicle and month, voided purchases left out.
     * The months are given by their bounds (`boundsMs`: each month's first instant, then the
     * last month's end, ascending): a purchase in [bounds[i], bounds[i + 1]) counts in month i.
     * An aggregate in SQL: a fleet's year is 50,000 purchases, which read one by one
     * (purchases.ts) take seconds; grouped on width_bucket's integer, not on a local month's text.
     */
    async purchaseSums(
      vehicleIds: readonly string[],
      boundsMs: readonly number[],
    ): Promise<Array<{ vehicleId: string; monthIndex: number; litresMl: bigint; amountIdr: bigint }>> {
      if (vehicleIds.length === 0 || boundsMs.length < 2) return [];
      const bounds = boundsMs.map((ms) => new Date(ms).toISOString());
      const rows = await database.query(
        `SELECT p.vehicle_id, width_bucket(p.at, $2::timestamptz[]) AS bucket, sum(p.litres)::text AS litres,
          sum(p.amount_idr)::text AS amount
           FROM fuel_purchases p
          WHERE p.kind = 'purchase' AND p.vehicle_id = ANY($1::uuid[]) AND p.at >= $3 AND p.at < $4
            AND NOT EXISTS (SELECT 1 FROM fuel_purchases x WHERE x.voids_id = p.id AND x.kind = 'void')
          GROUP BY 1, 2`,
        [vehicleIds, bounds, bounds[0], bounds[bounds.length - 1]],
      );
      return rows.map((r) => ({
        vehicleId: String(r.vehicle_id),
        monthIndex: num(r.bucket) - 1,
        litresMl: parseLitres(String(r.litres)),
        amountIdr: BigInt(String(r.amount)),
      }));
    },

    /**
     * What these vehicles bought in [from, to), in rupiah per department at the time of the
     * purchase, voided purchases left out: a department's spend needs no vehicle-month rows.
     */
    async spentByDepartment(vehicleIds: readonly string[], fromMs: number, toMs: number): Promise<Map<string, bigint>> {
      if (vehicleIds.length === 0) return new Map();
      const rows = await database.query(
        `SELECT p.department_id, sum(p.amount_idr)::text AS amount
           FROM fuel_purchases p
          WHERE p.kind = 'purchase' AND p.vehicle_id = ANY($1::uuid[]) AND p.at >= $2 AND p.at < $3
            AND NOT EXISTS (SELECT 1 FROM fuel_purchases x WHERE x.voids_id = p.id AND x.kind = 'void')
          GROUP BY p.department_id`,
        [vehicleIds, new Date(fromMs).toISOString(), new Date(toMs).toISOString()],
      );
      return new Map(rows.map((r) => [String(r.department_id), BigInt(String(r.amount))]));
    },

    /** Departments' budgets for a year, in rupiah. */
    async budgets(year: number): Promise<Map<string, bigint>> {
      const rows = await database.query(`SELECT department_id, amount_idr::text AS amount FROM department_budgets WHERE year = $1`, [year]);
      return new Map(rows.map((r) => [String(r.department_id), BigInt(String(r.amount))]));
    },

    /**
     * The month rows of these vehicles for months ('YYYY-MM') in [firstMonth, lastMonth], each with
     * its first and last tank level: two index probes per vehicle-month (the day rows' key is
     * vehicle, day), not a scan of every day, in the same query as the month rows.
     */
    async monthUse(vehicleIds: readonly string[], firstMonth: string, lastMonth: string): Promise<MonthUse[]> {
      if (vehicleIds.length === 0) return [];
      const rows = await database.query(
        `SELECT m.vehicle_id, to_char(m.month, 'YYYY-MM') AS month, m.active_days, m.active_without_counter, m.active_without_sensor,
          m.rated_days, m.sensor_days, m.counter_litres, m.sensor_litres, m.rated_litres, m.fuel_used_litres, m.idle_litres,
          (SELECT d.start_level_litres FROM vehicle_day_rollups d
            WHERE d.vehicle_id = m.vehicle_id AND d.day >= m.month AND d.day < (m.month + interval '1 month')::date
              AND d.start_level_litres IS NOT NULL ORDER BY d.day LIMIT 1) AS start_level,
          (SELECT d.end_level_litres FROM vehicle_day_rollups d
            WHERE d.vehicle_id = m.vehicle_id AND d.day >= m.month AND d.day < (m.month + interval '1 month')::date
              AND d.end_level_litres IS NOT NULL ORDER BY d.day DESC LIMIT 1) AS end_level
           FROM vehicle_month_rollups m WHERE m.vehicle_id = ANY($1::uuid[]) AND m.month BETWEEN $2::date AND $3::date`,
        [vehicleIds, `${firstMonth}-01`, `${lastMonth}-01`],
      );
      return rows.map((r) => ({
        vehicleId: String(r.vehicle_id),
        month: String(r.month),
        activeDays: num(r.active_days),
        activeWithoutCounter: num(r.active_without_counter),
        activeWithoutSensor: num(r.active_without_sensor),
        ratedDays: num(r.rated_days),
        sensorDays: num(r.sensor_days),
        counterLitres: numOrNull(r.counter_litres),
        sensorLitres: numOrNull(r.sensor_litres),
        ratedLitres: num(r.rated_litres),
        fuelUsedLitres: num(r.fuel_used_litres),
        idleLitres: num(r.idle_litres),
        // Both or neither: a level change needs a start and an end.
        levels: r.start_level === null || r.end_level === null ? null : { start: num(r.start_level), end: num(r.end_level) },
      }));
    },
  };
}
export type SavingsRepository = ReturnType<typeof savingsRepository>;
