/** Fuel vouchers (fuel_vouchers): issued, listed, looked up by the code a receipt names. */
import type { Database } from '../../db/client.js';
import type { VoucherFactsRow } from '../../domain/finance/vouchers.js';
import { formatLitres, parseLitres } from '../../domain/finance/money.js';
import type { DepartmentScope } from '../scope.js';

export interface VoucherRow extends VoucherFactsRow {
  departmentId: string;
  plateNumber: string;
  requestedMl: bigint | null;
  limitedBy: string | null;
  createdByKeyId: string | null;
}

const ms = (v: unknown): number => (v instanceof Date ? v.getTime() : Date.parse(String(v)));
const ml = (v: unknown): bigint => parseLitres(String(v));

const SELECT = `SELECT f.id, f.code, f.vehicle_id, f.department_id, v.plate_number,
  f.requested_litres::text AS requested, f.granted_litres::text AS granted,
  f.limited_by, f.created_at, f.expires_at, f.created_by_key_id FROM fuel_vouchers f JOIN vehicles v ON v.id = f.vehicle_id`;

function toRow(r: Record<string, unknown>): VoucherRow {
  return {
    id: String(r.id),
    code: String(r.code),
    vehicleId: String(r.vehicle_id),
    departmentId: String(r.department_id),
    plateNumber: String(r.plate_number),
    requestedMl: r.requested === null ? null : ml(r.requested),
    grantedMl: ml(r.granted),
    limitedBy: (r.limited_by as string | null) ?? null,
    createdAtMs: ms(r.created_at),
    expiresAtMs: ms(r.expires_at),
    createdByKeyId: (r.created_by_key_id as string | null) ?? null,
  };
}

export function voucherRepository(database: Database) {
  return {
    async create(input: {
      code: string;
      vehicleId: string;
      departmentId: string;
      requestedMl: bigint | null;
      grantedMl: bigint;
      limitedBy: string | null;
      createdAtMs: number;
      expiresAtMs: number;
      createdByKeyId: string | null;
    }): Promise<VoucherRow> {
      const [row] = await database.query(
        `WITH ins AS (
           INSERT INTO fuel_vouchers (code, vehicle_id, department_id, requested_litres, granted_litres, limited_by, created_at,
             expires_at, created_by_key_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *
         ) ${SELECT.replace('FROM fuel_vouchers f', 'FROM ins f')}`,
        [
          input.code,
          input.vehicleId,
          input.departmentId,
          input.requestedMl === null ? null : formatLitres(input.requestedMl),
          formatLitres(input.grantedMl),
          input.limitedBy,
          new Date(input.createdAtMs).toISOString(),
          new Date(input.expiresAtMs).toISOString(),
          input.createdByKeyId,
        ],
      );
      return toRow(row!);
    },

    async byCodes(codes: readonly string[]): Promise<VoucherRow[]> {
      if (codes.length === 0) return [];
      return (await database.query(`${SELECT} WHERE f.code = ANY($1::text[])`, [codes])).map(toRow);
    },

    /** Vouchers created in [fromMs, toMs), newest first, in scope. */
    async list(
      scope: DepartmentScope,
      filter: { fromMs: number; toMs: number; vehicleId?: string; departmentId?: string; limit: number },
    ): Promise<VoucherRow[]> {
      const rows = await database.query(
        `${SELECT} WHERE f.created_at >= $1 AND f.created_at < $2 AND ($3::uuid IS NULL OR f.department_id = $3)
            AND ($4::uuid IS NULL OR f.department_id = $4) AND ($5::uuid IS NULL OR f.vehicle_id = $5)
          ORDER BY f.created_at DESC, f.id LIMIT $6`,
        [
          new Date(filter.fromMs).toISOString(),
          new Date(filter.toMs).toISOString(),
          scope.departmentId,
          filter.departmentId ?? null,
          filter.vehicleId ?? null,
          filter.limit,
        ],
      );
      return rows.map(toRow);
    },

    /** A vehicle's vouchers still valid at `atMs` (issued before, expiring after). */
    async validAt(vehicleId: string, atMs: number): Promise<VoucherRow[]> {
      const at = new Date(atMs).toISOString();
      return (await database.query(`${SELECT} WHERE f.vehicle_id = $1 AND f.created_at <= $2 AND f.expires_at > $2`, [vehicleId, at])).map(
        toRow,
      );
    },

    /** Serialises voucher grants of one vehicle (two at once could each grant the same litres). */
    async withVehicleLock<T>(vehicleId: string, fn: () => Promise<T>): Promise<T> {
      if (database.kind === 'pglite') return fn();
      return database.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`voucher:${vehicleId}`]);
        return fn();
      });
    },
  };
}
export type VoucherRepository = ReturnType<typeof voucherRepository>;
