/**
 * The rollup job's bookkeeping: its lock, where it stands with each vehicle, which
 * vehicles have news, and the late-data marks that send it back to a day.
 */
import type { Database } from '../../db/client.js';
import type { LocalDay } from '../../domain/report-time.js';
import { iso, ms } from './values.js';

export interface VehicleState {
  seenAtMs: number | null;
  computedAtMs: number;
}

/** A vehicle whose trackers reported since the job last looked. */
export interface RefreshCandidate {
  vehicleId: string;
  seenAtMs: number | null;
  state: VehicleState | null;
}

const ROLLUP_LOCK_KEY = 0x41524d44; // "ARMD"

export function jobQueries(database: Database) {
  return {
    /**
     * Runs `fn` as the only rollup job at work: on PostgreSQL under an advisory lock held by
     * a transaction of its own (a session lock on a pooled connection could be released on
     * another one; `fn`'s queries go through the pool as usual); PGlite has one process.
     * Without `wait`, answers undefined at once when another process holds it.
     */
    async withJobLock<T>(wait: boolean, fn: () => Promise<T>): Promise<T | undefined> {
      if (database.kind === 'pglite') return fn();
      return database.transaction(async (tx) => {
        if (wait) {
          await tx.query('SELECT pg_advisory_xact_lock($1)', [ROLLUP_LOCK_KEY]);
        } else {
          const [row] = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [ROLLUP_LOCK_KEY]);
          if (!row?.locked) return undefined;
        }
        return fn();
      });
    },

    /** Where the rollup job stands with these vehicles. */
    async states(vehicleIds: readonly string[]): Promise<Map<string, VehicleState>> {
      const rows =
        vehicleIds.length === 0
          ? []
          : await database.query(
              `SELECT vehicle_id, seen_at, computed_at FROM analytics_vehicle_state WHERE vehicle_id = ANY($1::uuid[])`,
              [vehicleIds],
            );
      return new Map(
        rows.map((r) => [String(r.vehicle_id), { seenAtMs: r.seen_at === null ? null : ms(r.seen_at), computedAtMs: ms(r.computed_at) }]),
      );
    },

    /** Late-data marks still waiting for the job, for these vehicles and days. */
    async lateMarks(
      vehicleIds: readonly string[],
      firstDay: LocalDay,
      lastDay: LocalDay,
    ): Promise<Array<{ vehicleId: string; day: LocalDay }>> {
      if (vehicleIds.length === 0) return [];
      const rows = await database.query(
        `SELECT vehicle_id, day::text AS day FROM telemetry_late_days WHERE vehicle_id = ANY($1::uuid[]) AND day BETWEEN $2 AND $3`,
        [vehicleIds, firstDay, lastDay],
      );
      return rows.map((r) => ({ vehicleId: String(r.vehicle_id), day: String(r.day) }));
    },

    /**
     * Vehicles whose trackers were heard from after the job last computed them, or that
     * were computed too soon after their last reading to be sure every reading then
     * received had been committed; and vehicles with readings the job has never seen.
     */
    async refreshCandidates(settleMs: number): Promise<RefreshCandidate[]> {
      const rows = await database.query(
        `SELECT v.id AS vehicle_id, d.seen_at, s.seen_at AS state_seen_at, s.computed_at
           FROM vehicles v
           JOIN LATERAL (SELECT max(last_seen_at) AS seen_at FROM devices WHERE vehicle_id = v.id) d ON true
           LEFT JOIN analytics_vehicle_state s ON s.vehicle_id = v.id
          WHERE d.seen_at IS NOT NULL
            AND (s.vehicle_id IS NULL OR s.seen_at IS NULL OR d.seen_at > s.seen_at
                 OR s.computed_at < s.seen_at + $1 * interval '1 millisecond')`,
        [settleMs],
      );
      return rows.map((r) => ({
        vehicleId: String(r.vehicle_id),
        seenAtMs: r.seen_at === null ? null : ms(r.seen_at),
        state:
          r.computed_at === null
            ? null
            : { seenAtMs: r.state_seen_at === null ? null : ms(r.state_seen_at), computedAtMs: ms(r.computed_at) },
      }));
    },

    async setState(vehicleId: string, seenAtMs: number | null, computedAtMs: number): Promise<void> {
      await database.query(
        `INSERT INTO analytics_vehicle_state (vehicle_id, seen_at, computed_at) VALUES ($1, $2, $3)
         ON CONFLICT (vehicle_id) DO UPDATE SET seen_at = excluded.seen_at, computed_at = excluded.computed_at`,
        [vehicleId, seenAtMs === null ? null : iso(seenAtMs), iso(computedAtMs)],
      );
    },

    /**
     * Late-data marks, oldest first, at most `limit`, each with its `marked_at` exactly as
     * stored (text: microseconds matter for `clearLateDays`).
     */
    async pendingLateDays(limit: number): Promise<Array<{ vehicleId: string; day: LocalDay; markedAt: string }>> {
      const rows = await database.query(
        `SELECT vehicle_id, day::text AS day, marked_at::text AS marked_at FROM telemetry_late_days
          ORDER BY marked_at, vehicle_id, day LIMIT $1`,
        [limit],
      );
      return rows.map((r) => ({ vehicleId: String(r.vehicle_id), day: String(r.day), markedAt: String(r.marked_at) }));
    },

    /**
     * Removes the marks a run handled, each only if it is still the mark the run read: a
     * reading that arrives meanwhile re-marks its day (a new `marked_at`), and that mark stays.
     */
    async clearLateDays(vehicleId: string, marks: ReadonlyArray<{ day: LocalDay; markedAt: string }>): Promise<void> {
      if (marks.length === 0) return;
      await database.query(
        `DELETE FROM telemetry_late_days t USING unnest($2::date[], $3::timestamptz[]) AS m(day, marked_at)
          WHERE t.vehicle_id = $1 AND t.day = m.day AND t.marked_at = m.marked_at`,
        [vehicleId, marks.map((m) => m.day), marks.map((m) => m.markedAt)],
      );
    },
  };
}
