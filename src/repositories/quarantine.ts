/** Reads of the quarantine: what the ingest could not use, and why. */
import type { Queryable } from '../db/client.js';

export interface QuarantineRow {
  id: number;
  receivedAt: Date;
  topic: string;
  deviceId: string | null;
  reason: string;
  detail: string | null;
  payload: Uint8Array;
  payloadBytes: number;
  /** How often this payload came on this topic for this reason (redeliveries included). */
  timesSeen: number;
  lastReceivedAt: Date;
}

export function quarantineRepository(db: Queryable) {
  return {
    async list(filter: { fromMs: number; toMs: number; reason?: string; deviceId?: string; limit: number }): Promise<QuarantineRow[]> {
      const rows = await db.query(
        `SELECT id::float8 AS id, received_at AS "receivedAt", topic, device_id AS "deviceId", reason, detail, payload,
                payload_bytes AS "payloadBytes", times_seen AS "timesSeen", last_received_at AS "lastReceivedAt"
           FROM quarantine
          -- By the last time a payload came: one that keeps coming stays in today's list.
          WHERE last_received_at >= $1 AND last_received_at < $2
            AND ($3::text IS NULL OR reason = $3)
            AND ($4::text IS NULL OR device_id = $4)
          ORDER BY last_received_at DESC, id DESC
          LIMIT $5`,
        [
          new Date(filter.fromMs).toISOString(),
          new Date(filter.toMs).toISOString(),
          filter.reason ?? null,
          filter.deviceId ?? null,
          filter.limit,
        ],
      );
      return rows.map((r) => ({
        ...(r as unknown as QuarantineRow),
        receivedAt: new Date(r.receivedAt as string | Date),
        lastReceivedAt: new Date(r.lastReceivedAt as string | Date),
      }));
    },
    /**
     * Deletes rows whose payload last came more than `retentionDays` ago, a slice at a
     * time (short transactions next to the ingest's); answers how many.
     */
    async expire(retentionDays: number, slice = 5000): Promise<number> {
      let deleted = 0;
      for (;;) {
        const rows = await db.query<{ n: number }>(
          `WITH gone AS (
             DELETE FROM quarantine WHERE id IN (
               SELECT id FROM quarantine WHERE last_received_at < now() - make_interval(days => $1::int) LIMIT $2)
             RETURNING 1)
           SELECT count(*)::int AS n FROM gone`,
          [retentionDays, slice],
        );
        const n = Number(rows[0]?.n ?? 0);
        deleted += n;
        if (n < slice) return deleted;
      }
    },
    async countByReason(): Promise<Array<{ reason: string; count: number }>> {
      return db.query<{ reason: string; count: number }>(
        `SELECT reason, sum(times_seen)::int AS count FROM quarantine GROUP BY reason ORDER BY reason`,
      );
    },
  };
}
export type QuarantineRepository = ReturnType<typeof quarantineRepository>;
