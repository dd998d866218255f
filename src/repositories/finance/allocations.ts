/**
 * Vehicles' monthly fuel allocations with their history, and the changes to a vehicle
 * that finance audits (tank capacity, rated use, fuel type, allocation). The allocation
 * in force for a month is the one with the latest fromMonth not after it; a vehicle's
 * first allocation applies from the beginning. `vehicles.monthly_allocation_litres` is
 * kept equal to the allocation in force for the current month.
 */
import type { Database, Queryable } from '../../db/client.js';
import { formatLitres, parseLitres } from '../../domain/finance/money.js';
import { writeAudit, type Actor } from './audit-log.js';

export interface Allocation {
  id: string;
  vehicleId: string;
  litresMl: bigint;
  /** YYYY-MM, a month in REPORT_TZ. */
  fromMonth: string;
  createdAt: Date;
  createdByKeyId: string | null;
}

const COLUMNS = `a.id, a.vehicle_id, a.litres::text AS litres, to_char(a.from_month, 'YYYY-MM') AS from_month, a.created_at,
  a.created_by_key_id`;
const toAllocation = (r: Record<string, unknown>): Allocation => ({
  id: String(r.id),
  vehicleId: String(r.vehicle_id),
  litresMl: parseLitres(String(r.litres)),
  fromMonth: String(r.from_month),
  createdAt: new Date(r.created_at as string),
  createdByKeyId: r.created_by_key_id === null ? null : String(r.created_by_key_id),
});

/** In force for the month: the latest fromMonth not after it, else (the first applies from the beginning) the earliest. */
const IN_FORCE_ORDER = `a.vehicle_id, (a.from_month <= $2::date) DESC,
  CASE WHEN a.from_month <= $2::date THEN a.from_month END DESC, a.from_month ASC`;

const monthDate = (month: string) => `${month}-01`;

/** The vehicle columns a PATCH may change, and the ones whose changes go to the audit log. */
const VEHICLE_COLUMNS = {
  plateNumber: 'plate_number',
  departmentId: 'department_id',
  kind: 'kind',
  fuelType: 'fuel_type',
  tankCapacityLitres: 'tank_capacity_litres',
  ratedLitresPer100Km: 'rated_litres_per_100km',
  idleLitresPerHour: 'idle_litres_per_hour',
  speedLimitKmh: 'speed_limit_kmh',
} as const;
export const AUDITED_VEHICLE_FIELDS = ['tankCapacityLitres', 'ratedLitresPer100Km', 'idleLitresPerHour', 'fuelType'] as const;
export type VehicleColumnPatch = Partial<Record<keyof typeof VEHICLE_COLUMNS, string | number | null>>;

async function inForce(q: Queryable, vehicleIds: readonly string[], month: string): Promise<Map<string, Allocation>> {
  const rows = await q.query(
    `SELECT DISTINCT ON (a.vehicle_id) ${COLUMNS} FROM vehicle_allocations a
     WHERE a.vehicle_id = ANY($1::uuid[]) ORDER BY ${IN_FORCE_ORDER}`,
    [[...vehicleIds], monthDate(month)],
  );
  return new Map(rows.map((r) => [String(r.vehicle_id), toAllocation(r)]));
}

/** Sets one month's allocation (replacing that month's, if any), keeps the vehicle's current figure, and audits it. */
async function setAllocation(
  tx: Queryable,
  v: { id: string; departmentId: string },
  litresMl: bigint,
  fromMonth: string,
  ctx: { actor: Actor; at: Date; currentMonth: string; tz: string },
): Promise<{ allocation: Allocation; created: boolean; unchanged: boolean }> {
  const [count] = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM vehicle_allocations WHERE vehicle_id = $1', [v.id]);
  if ((count?.n ?? 0) === 0) {
    // A vehicle written without the API (the demo seed) has its allocation only on the
    // vehicle: it becomes the first (from the month it was registered), so it keeps applying
    // before a later one, unless the new one starts no later (then it is the first itself).
    await tx.query(
      `INSERT INTO vehicle_allocations (vehicle_id, litres, from_month, created_at)
       SELECT id, monthly_allocation_litres::numeric(12,3), date_trunc('month', created_at AT TIME ZONE $2)::date, $3 FROM vehicles
       WHERE id = $1 AND date_trunc('month', created_at AT TIME ZONE $2)::date < $4::date
       ON CONFLICT DO NOTHING`,
      [v.id, ctx.tz, ctx.at, monthDate(fromMonth)],
    );
  }
  const before = (await inForce(tx, [v.id], fromMonth)).get(v.id);
  const [sameMonth] = await tx.query(`SELECT ${COLUMNS} FROM vehicle_allocations a WHERE a.vehicle_id = $1 AND a.from_month = $2::date`, [
    v.id,
    monthDate(fromMonth),
  ]);
  if (sameMonth && toAllocation(sameMonth).litresMl === litresMl)
    return { allocation: toAllocation(sameMonth), created: false, unchanged: true };
  const [row] = await tx.query(
    `INSERT INTO vehicle_allocations AS a (vehicle_id, litres, from_month, created_at, created_by_key_id)
     VALUES ($1, $2::numeric, $3::date, $4, $5)
     ON CONFLICT (vehicle_id, from_month) DO UPDATE SET litres = excluded.litres, created_at = excluded.created_at,
       created_by_key_id = excluded.created_by_key_id
     RETURNING ${COLUMNS}`,
    [v.id, formatLitres(litresMl), monthDate(fromMonth), ctx.at, ctx.actor.keyId],
  );
  const current = (await inForce(tx, [v.id], ctx.currentMonth)).get(v.id);
  if (current)
    await tx.query('UPDATE vehicles SET monthly_allocation_litres = $2 WHERE id = $1', [v.id, Number(formatLitres(current.litresMl))]);
  await writeAudit(
    tx,
    ctx.actor,
    {
      action: 'vehicle_allocation.set',
      entity: 'vehicle',
      entityId: v.id,
      departmentId: v.departmentId,
      before: before ? { allocationLitres: formatLitres(before.litresMl), inForceFrom: before.fromMonth, forMonth: fromMonth } : null,
      after: { allocationLitres: formatLitres(litresMl), fromMonth },
    },
    ctx.at,
  );
  return { allocation: toAllocation(row!), created: !sameMonth, unchanged: false };
}

export function allocationRepository(database: Database) {
  return {
    /** A vehicle's allocations, oldest first. */
    async list(vehicleId: string): Promise<Allocation[]> {
      return (
        await database.query(`SELECT ${COLUMNS} FROM vehicle_allocations a WHERE a.vehicle_id = $1 ORDER BY a.from_month`, [vehicleId])
      ).map(toAllocation);
    },
    /**
     * The allocation in force for the month (YYYY-MM) of each vehicle. A vehicle without
     * any allocation row answers its `monthly_allocation_litres` (fromMonth null).
     */
    async inForceForMonth(
      vehicleIds: readonly string[],
      month: string,
    ): Promise<Map<string, { litresMl: bigint; fromMonth: string | null }>> {
      const found = await inForce(database, vehicleIds, month);
      const out = new Map<string, { litresMl: bigint; fromMonth: string | null }>();
      for (const [id, a] of found) out.set(id, { litresMl: a.litresMl, fromMonth: a.fromMonth });
      const missing = vehicleIds.filter((id) => !found.has(id));
      if (missing.length > 0) {
        const rows = await database.query<{ id: string; litres: string }>(
          'SELECT id, monthly_allocation_litres::numeric(12,3)::text AS litres FROM vehicles WHERE id = ANY($1::uuid[])',
          [missing],
        );
        for (const r of rows) out.set(r.id, { litresMl: parseLitres(r.litres), fromMonth: null });
      }
      return out;
    },
    async set(
      vehicle: { id: string; departmentId: string },
      litresMl: bigint,
      fromMonth: string,
      ctx: { actor: Actor; at: Date; currentMonth: string; tz: string },
    ): Promise<{ allocation: Allocation; created: boolean; unchanged: boolean }> {
      return database.transaction(async (tx) => {
        await tx.query('SELECT 1 FROM vehicles WHERE id = $1 FOR UPDATE', [vehicle.id]);
        return setAllocation(tx, vehicle, litresMl, fromMonth, ctx);
      });
    },
    /** Registers a vehicle with its first allocation (from the current month) and the audit entry, in one transaction. */
    async createVehicle(
      input: {
        plateNumber: string;
        departmentId: string;
        kind: string;
        fuelType: string;
        tankCapacityLitres: number;
        ratedLitresPer100Km: number;
        idleLitresPerHour: number;
        monthlyAllocationLitres: number;
        speedLimitKmh?: number | null | undefined;
      },
      ctx: { actor: Actor; at: Date; currentMonth: string },
    ): Promise<string> {
      return database.transaction(async (tx) => {
        const [row] = await tx.query<{ id: string }>(
          `INSERT INTO vehicles (plate_number, department_id, kind, fuel_type, tank_capacity_litres, rated_litres_per_100km,
             idle_litres_per_hour,
             monthly_allocation_litres, speed_limit_kmh, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
          [
            input.plateNumber,
            input.departmentId,
            input.kind,
            input.fuelType,
            input.tankCapacityLitres,
            input.ratedLitresPer100Km,
            input.idleLitresPerHour,
            input.monthlyAllocationLitres,
            input.speedLimitKmh ?? null,
            ctx.at,
          ],
        );
        const id = row!.id;
        const litres = formatLitres(parseLitres(Math.round(input.monthlyAllocationLitres * 1000) / 1000));
        await tx.query(
          `INSERT INTO vehicle_allocations (vehicle_id, litres, from_month, created_at, created_by_key_id)
           VALUES ($1, $2::numeric, $3::date, $4, $5)`,
          [id, litres, monthDate(ctx.currentMonth), ctx.at, ctx.actor.keyId],
        );
        const after = Object.fromEntries(AUDITED_VEHICLE_FIELDS.map((f) => [f, input[f]]));
        await writeAudit(
          tx,
          ctx.actor,
          {
            action: 'vehicle.create',
            entity: 'vehicle',
            entityId: id,
            departmentId: input.departmentId,
            before: null,
            after: { plateNumber: input.plateNumber, ...after, allocationLitres: litres, fromMonth: ctx.currentMonth },
          },
          ctx.at,
        );
        return id;
      });
    },
    /**
     * Changes a vehicle in one transaction with its audit-log entry (for the audited
     * fields) and, when `allocationLitresMl` is given, the allocation from the current month.
     */
    async patchVehicle(
      vehicleId: string,
      patch: VehicleColumnPatch,
      allocationLitresMl: bigint | undefined,
      ctx: { actor: Actor; at: Date; currentMonth: string; tz: string },
    ): Promise<boolean> {
      return database.transaction(async (tx) => {
        const [before] = await tx.query('SELECT * FROM vehicles WHERE id = $1 FOR UPDATE', [vehicleId]);
        if (!before) return false;
        const sets: string[] = [];
        const params: unknown[] = [vehicleId];
        for (const [field, value] of Object.entries(patch)) {
          if (value === undefined) continue;
          params.push(value);
          sets.push(`${VEHICLE_COLUMNS[field as keyof typeof VEHICLE_COLUMNS]} = $${params.length}`);
        }
        if (sets.length > 0) await tx.query(`UPDATE vehicles SET ${sets.join(', ')} WHERE id = $1`, params);
        const [after] = await tx.query('SELECT * FROM vehicles WHERE id = $1', [vehicleId]);
        const changed = AUDITED_VEHICLE_FIELDS.filter(
          (f) => patch[f] !== undefined && String(before[VEHICLE_COLUMNS[f]]) !== String(after![VEHICLE_COLUMNS[f]]),
        );
        if (changed.length > 0) {
          await writeAudit(
            tx,
            ctx.actor,
            {
              action: 'vehicle.update',
              entity: 'vehicle',
              entityId: vehicleId,
              departmentId: String(after!.department_id),
              before: Object.fromEntries(changed.map((f) => [f, before[VEHICLE_COLUMNS[f]]])),
              after: Object.fromEntries(changed.map((f) => [f, after![VEHICLE_COLUMNS[f]]])),
            },
            ctx.at,
          );
        }
        if (allocationLitresMl !== undefined) {
          await setAllocation(tx, { id: vehicleId, departmentId: String(after!.department_id) }, allocationLitresMl, ctx.currentMonth, ctx);
        }
        return true;
      });
    },
  };
}
export type AllocationRepository = ReturnType<typeof allocationRepository>;
