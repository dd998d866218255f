/** Closed months (month_closings): the reports as signed, frozen. A month is closed once. */
import type { Database } from '../../db/client.js';

export interface ClosingRow {
  month: string;
  closedAtMs: number;
  closedByKeyId: string | null;
  closedByKeyName: string | null;
  snapshot: Record<string, unknown>;
}

const ms = (v: unknown): number => (v instanceof Date ? v.getTime() : Date.parse(String(v)));
const toRow = (r: Record<string, unknown>): ClosingRow => ({
  month: String(r.month).slice(0, 7),
  closedAtMs: ms(r.closed_at),
  closedByKeyId: (r.closed_by_key_id as string | null) ?? null,
  closedByKeyName: (r.closed_by_key_name as string | null) ?? null,
  snapshot: (typeof r.snapshot === 'string' ? JSON.parse(r.snapshot) : r.snapshot) as Record<string, unknown>,
});

export function closingRepository(database: Database) {
  return {
    /** The closing of a month ('YYYY-MM'), with its snapshot. */
    async get(month: string): Promise<ClosingRow | undefined> {
      const [row] = await database.query(
        `SELECT month::text AS month, closed_at, closed_by_key_id, closed_by_key_name, snapshot FROM month_closings WHERE month = $1`,
        [`${month}-01`],
      );
      return row ? toRow(row) : undefined;
    },
    /** Closed months without their snapshots, newest first. */
    async list(): Promise<Array<Omit<ClosingRow, 'snapshot'>>> {
      const rows = await database.query(
        `SELECT month::text AS month, closed_at, closed_by_key_id, closed_by_key_name,
          '{}'::jsonb AS snapshot FROM month_closings ORDER BY month DESC`,
      );
      return rows.map(toRow);
    },
    /** Closes the month; answers undefined when it was already closed (the first closing stands). */
    async create(input: {
      month: string;
      closedAtMs: number;
      keyId: string | null;
      keyName: string | null;
      snapshot: unknown;
    }): Promise<ClosingRow | undefined> {
      const [row] = await database.query(
        `INSERT INTO month_closings (month, closed_at, closed_by_key_id, closed_by_key_name, snapshot) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (month) DO NOTHING
         RETURNING month::text AS month, closed_at, closed_by_key_id, closed_by_key_name, snapshot`,
        [`${input.month}-01`, new Date(input.closedAtMs).toISOString(), input.keyId, input.keyName, JSON.stringify(input.snapshot)],
      );
      return row ? toRow(row) : undefined;
    },
  };
}
export type ClosingRepository = ReturnType<typeof closingRepository>;
