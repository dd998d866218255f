/**
 * Stored verdicts of the reconciliation (purchase_verdicts), written by the settle job
 * (src/finance/settle-job.ts): a verdict is rewritten while pending and whenever the
 * analytics of its days change after it settled; `alerted_kinds` remembers which settled
 * flags have raised their alert, so each is raised once.
 */
import type { Database } from '../../db/client.js';
import type { Flag, VerdictStatus } from '../../domain/finance/reconcile.js';
import type { LocalDay } from '../../domain/report-time.js';

export interface StoredVerdict {
  purchaseId: string;
  vehicleId: string;
  status: VerdictStatus;
  flags: Flag[];
  refuel: { at: string; litres: number; lat: number; lon: number } | null;
  judgedAtMs: number;
  settledAtMs: number | null;
  alertedKinds: string[];
}

const SETTLE_LOCK_KEY = 0x41524d46; // "ARMF"
const ms = (v: unknown): number => (v instanceof Date ? v.getTime() : Date.parse(String(v)));
const parse = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

export function verdictRepository(database: Database) {
  return {
    async get(purchaseIds: readonly string[]): Promise<Map<string, StoredVerdict>> {
      if (purchaseIds.length === 0) return new Map();
      const rows = await database.query(
        `SELECT purchase_id, vehicle_id, status, flags, refuel, judged_at, settled_at, alerted_kinds FROM purchase_verdicts WHERE
          purchase_id = ANY($1::uuid[])`,
        [purchaseIds],
      );
      return new Map(
        rows.map((r) => [
          String(r.purchase_id),
          {
            purchaseId: String(r.purchase_id),
            vehicleId: String(r.vehicle_id),
            status: r.status as VerdictStatus,
            flags: parse<Flag[]>(r.flags),
            refuel: parse<StoredVerdict['refuel']>(r.refuel),
            judgedAtMs: ms(r.judged_at),
            settledAtMs: r.settled_at === null ? null : ms(r.settled_at),
            alertedKinds: parse<string[]>(r.alerted_kinds),
          },
        ]),
      );
    },

    /**
     * Purchases (of those given, with their local day) that need judging: no verdict yet,
     * still pending, or settled before the analytics of their day or a neighbour changed.
     */
    async needingJudgement(purchases: ReadonlyArray<{ id: string; vehicleId: string; day: LocalDay }>): Promise<Set<string>> {
      if (purchases.length === 0) return new Set();
      const rows = await database.query(
        `SELECT p.id FROM unnest($1::uuid[], $2::uuid[], $3::date[]) AS p(id, vehicle_id, day)
           LEFT JOIN purchase_verdicts v ON v.purchase_id = p.id
          WHERE v.purchase_id IS NULL OR v.status = 'pending'
             OR EXISTS (SELECT 1 FROM vehicle_day_rollups d WHERE d.vehicle_id = p.vehicle_id
                          AND d.day BETWEEN p.day - 1 AND p.day + 1 AND d.computed_at > v.judged_at)`,
        [purchases.map((p) => p.id), purchases.map((p) => p.vehicleId), purchases.map((p) => p.day)],
      );
      return new Set(rows.map((r) => String(r.id)));
    },

    /** Writes verdicts; a settled one keeps the time it first settled. */
    async save(verdicts: ReadonlyArray<Omit<StoredVerdict, 'settledAtMs' | 'alertedKinds'>>): Promise<void> {
      if (verdicts.length === 0) return;
      await database.query(
        `INSERT INTO purchase_verdicts (purchase_id, vehicle_id, status, flags, refuel, judged_at, settled_at)
         SELECT id, vehicle_id, status, flags, refuel, judged_at, CASE WHEN status = 'pending' THEN NULL ELSE judged_at END
           FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::jsonb[], $6::timestamptz[]) AS x(id, vehicle_id, status,
             flags, refuel, judged_at)
         ON CONFLICT (purchase_id) DO UPDATE SET
           vehicle_id = excluded.vehicle_id, status = excluded.status, flags = excluded.flags, refuel = excluded.refuel, judged_at =
             excluded.judged_at,
           settled_at = CASE WHEN excluded.status = 'pending' THEN NULL
                             ELSE coalesce(purchase_verdicts.settled_at, excluded.settled_at) END`,
        [
          verdicts.map((v) => v.purchaseId),
          verdicts.map((v) => v.vehicleId),
          verdicts.map((v) => v.status),
          verdicts.map((v) => JSON.stringify(v.flags)),
          verdicts.map((v) => (v.refuel ? JSON.stringify(v.refuel) : null)),
          verdicts.map((v) => new Date(v.judgedAtMs).toISOString()),
        ],
      );
    },

    /**
     * Runs `fn` while this process alone settles verdicts (on PostgreSQL an advisory lock,
     * so two API processes never raise the same alert twice); answers null when another
     * process holds it. PGlite has one process anyway.
     */
    async exclusively<T>(fn: () => Promise<T>): Promise<T | null> {
      if (database.kind === 'pglite') return fn();
      return database.transaction(async (tx) => {
        const [row] = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [SETTLE_LOCK_KEY]);
        return row?.locked ? fn() : null;
      });
    },

    /** Records that these flag kinds of the purchase have raised their alerts. */
    async markAlerted(purchaseId: string, kinds: readonly string[]): Promise<void> {
      await database.query(
        `UPDATE purchase_verdicts SET alerted_kinds = (SELECT coalesce(jsonb_agg(DISTINCT k), '[]'::jsonb) FROM
          jsonb_array_elements_text(alerted_kinds || $2::jsonb) AS k)
          WHERE purchase_id = $1`,
        [purchaseId, JSON.stringify(kinds)],
      );
    },
  };
}
export type VerdictRepository = ReturnType<typeof verdictRepository>;
