/**
 * The telemetry retention's SQL: the month partitions, the vehicles a partition holds, the
 * months already dropped (their horizon is what ingest reads), and the drop itself:
 * DETACH and DROP of a whole partition, never DELETE row by row (src/ops/retention.ts).
 */
import type { Database } from '../db/client.js';
import { monthOfPartition, partitionName, type UtcMonth } from '../domain/retention.js';

export interface TelemetryPartition {
  month: UtcMonth;
  name: string;
  /** The planner's estimate (pg_class.reltuples; -1 before the table was ever analysed). */
  approxRows: number;
  bytes: number;
}

export interface DroppedMonth {
  month: UtcMonth;
  partitionName: string;
  keptFromMs: number;
  approxRows: number;
  bytes: number;
  droppedAtMs: number;
}

const PARTITION_LOCK = "hashtext('armada_telemetry_partition')";
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const ms = (v: unknown): number => (v instanceof Date ? v.getTime() : Date.parse(String(v)));

/** A partition name built here, checked again before it is spliced into DDL. */
function safeName(month: UtcMonth): string {
  const name = partitionName(month);
  if (!/^telemetry_\d{4}_\d{2}$/.test(name)) throw new Error(`not a telemetry partition: ${name}`);
  return name;
}

export function retentionRepository(database: Database) {
  return {
    /** The month partitions of telemetry, oldest first. */
    async partitions(): Promise<TelemetryPartition[]> {
      const rows = await database.query(
        `SELECT c.relname AS name, c.reltuples::float8 AS approx_rows, pg_total_relation_size(c.oid)::float8 AS bytes
           FROM pg_inherits i
           JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = 'telemetry'::regclass
          ORDER BY c.relname`,
      );
      const out: TelemetryPartition[] = [];
      for (const r of rows) {
        const month = monthOfPartition(String(r.name));
        if (month) out.push({ month, name: String(r.name), approxRows: num(r.approx_rows), bytes: num(r.bytes) });
      }
      return out;
    },

    /** The vehicles with readings in the month's partition, with the newest fix of each there. */
    async vehiclesIn(month: UtcMonth): Promise<Array<{ vehicleId: string; lastFixMs: number }>> {
      const rows = await database.query(
        `SELECT vehicle_id, (extract(epoch from max(fix_at)) * 1000)::float8 AS last_ms FROM ${safeName(month)} GROUP BY vehicle_id`,
      );
      return rows.map((r) => ({ vehicleId: String(r.vehicle_id), lastFixMs: num(r.last_ms) }));
    },

    /** Where the kept telemetry begins for ingest: the newest drop's horizon, or undefined when nothing was dropped. */
    async keptFromMs(): Promise<number | undefined> {
      const [row] = await database.query(`SELECT max(kept_from) AS kept_from FROM telemetry_dropped_months`);
      return row?.kept_from === null || row?.kept_from === undefined ? undefined : ms(row.kept_from);
    },

    async dropped(): Promise<DroppedMonth[]> {
      const rows = await database.query(
        `SELECT to_char(month, 'YYYY-MM') AS month, partition_name, kept_from, approx_rows::float8 AS approx_rows,
                bytes::float8 AS bytes, dropped_at
           FROM telemetry_dropped_months ORDER BY month`,
      );
      return rows.map((r) => ({
        month: String(r.month),
        partitionName: String(r.partition_name),
        keptFromMs: ms(r.kept_from),
        approxRows: num(r.approx_rows),
        bytes: num(r.bytes),
        droppedAtMs: ms(r.dropped_at),
      }));
    },

    /**
     * Records the month and its horizon, detaches its partition and drops it, in one
     * transaction under the lock that creating partitions takes: a concurrent
     * armada_ensure_telemetry_partition sees either the partition or the dropped month.
     * False when it was already gone (another process dropped it).
     */
    async drop(partition: TelemetryPartition, keptFromMs: number): Promise<boolean> {
      const name = safeName(partition.month);
      return database.transaction(async (tx) => {
        await tx.query(`SELECT pg_advisory_xact_lock(${PARTITION_LOCK})`);
        // Another process's run may have dropped it while this one decided.
        const [exists] = await tx.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [name]);
        if (!exists?.present) return false;
        await tx.query(
          `INSERT INTO telemetry_dropped_months (month, partition_name, kept_from, approx_rows, bytes)
           VALUES (($1 || '-01')::date, $2, $3, $4, $5)`,
          [partition.month, name, new Date(keptFromMs).toISOString(), Math.max(0, Math.round(partition.approxRows)), partition.bytes],
        );
        await tx.query(`ALTER TABLE telemetry DETACH PARTITION ${name}`);
        await tx.query(`DROP TABLE ${name}`);
        return true;
      });
    },
  };
}
export type RetentionRepository = ReturnType<typeof retentionRepository>;
