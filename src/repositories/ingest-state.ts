/**
 * The SQL behind the ingest's state written behind (src/ingest/state-behind.ts): each
 * vehicle's latest position (`vehicle_latest`) and each device's last-seen time and seq
 * counters (`devices`), brought up to date about once a second instead of a row each per
 * stored reading.
 *
 * The devices' figures are added only by the statement that deletes their
 * `ingest_unflushed` rows: a row counts once whoever adds it (the worker that wrote it,
 * or another process recovering after that worker died). The worker sends its own sums
 * of them, which the statement uses only if it claimed every row they cover. The latest
 * positions are idempotent (a row is replaced only by a later fix), so the worker sends its own.
 */
import type { Queryable } from '../db/client.js';
import type { BoundReading } from '../domain/ingest-types.js';
import type { DeviceFigures } from './telemetry.js';

/** A vehicle's newest stored reading, as `vehicle_latest` keeps it. */
export type LatestRow = Pick<
  BoundReading,
  | 'vehicleId'
  | 'deviceId'
  | 'fixAtMs'
  | 'receivedAtMs'
  | 'lat'
  | 'lon'
  | 'speedKmh'
  | 'headingDeg'
  | 'fuelLitres'
  | 'fuelPercent'
  | 'ignition'
  | 'batteryV'
>;

export interface AppliedState {
  /** `ingest_unflushed` rows added to the devices and deleted. */
  rows: number;
  /** Readings newly found missing from the devices' seq counters. */
  seqMissingAdded: number;
}

/**
 * The claimed rows' own figures (migration 0012 keeps one JSON array per device of each
 * batch), summed by device: what a recovery adds, and a flush whose own sums are not exact.
 */
const FIGURES_OF_CLAIMED = `
  SELECT e ->> 0 AS device_id, max(to_timestamp((e ->> 1)::float8 / 1000.0)) AS seen_at, min((e ->> 2)::bigint) AS min_seq,
         max((e ->> 3)::bigint) AS max_seq, sum((e ->> 4)::bigint)::bigint AS n
    FROM claimed c, json_array_elements(c.figures::json) AS e
   GROUP BY 1`;

/**
 * Adds `figures` (a row per device) to `devices` (in id order, so two statements cannot
 * deadlock on them) and answers how many readings went missing by it: missing now less
 * missing before, from the row as it was before the update (one snapshot per statement).
 */
const APPLY_DEVICES = `
  dev AS (
    UPDATE devices d SET
      last_seen_at = greatest(d.last_seen_at, f.seen_at),
      seq_first = least(d.seq_first, f.min_seq),
      seq_max = greatest(d.seq_max, f.max_seq),
      seq_received = d.seq_received + f.n
    FROM (SELECT f.*, o.seq_first AS old_first, o.seq_max AS old_max, o.seq_received AS old_received
            FROM figures f JOIN devices o ON o.id = f.device_id ORDER BY f.device_id) AS f
    WHERE d.id = f.device_id
    RETURNING
      CASE WHEN d.seq_max IS NULL THEN 0 ELSE d.seq_max - d.seq_first + 1 - d.seq_received END
      - CASE WHEN f.old_max IS NULL THEN 0 ELSE f.old_max - f.old_first + 1 - f.old_received END AS missing_added
  )`;

const UPSERT_LATEST = (source: string) => `
  INSERT INTO vehicle_latest AS l (vehicle_id, device_id, fix_at, received_at, lat, lon, speed_kmh, heading_deg,
    fuel_litres, fuel_percent, ignition, battery_v)
  ${source}
  ON CONFLICT (vehicle_id) DO UPDATE SET
    device_id = excluded.device_id, fix_at = excluded.fix_at, received_at = excluded.received_at,
    lat = excluded.lat, lon = excluded.lon, speed_kmh = excluded.speed_kmh, heading_deg = excluded.heading_deg,
    fuel_litres = excluded.fuel_litres, fuel_percent = excluded.fuel_percent, ignition = excluded.ignition,
    battery_v = excluded.battery_v
  WHERE l.fix_at < excluded.fix_at`;

const RESULT = `
  SELECT (SELECT count(*)::int FROM claimed) AS rows,
         (SELECT coalesce(sum(greatest(missing_added, 0)), 0)::int FROM dev) AS seq_missing_added`;

const applied = (row: { rows: number; seq_missing_added: number } | undefined): AppliedState => ({
  rows: Number(row?.rows ?? 0),
  seqMissingAdded: Number(row?.seq_missing_added ?? 0),
});

/** One latest row of the JSON parameter: short keys, times as epoch milliseconds. */
const toRecord = (r: LatestRow) => ({
  v: r.vehicleId,
  d: r.deviceId,
  f: r.fixAtMs,
  r: r.receivedAtMs,
  la: r.lat,
  lo: r.lon,
  s: r.speedKmh,
  h: r.headingDeg,
  fl: r.fuelLitres,
  fp: r.fuelPercent,
  i: r.ignition,
  b: r.batteryV,
});

export function ingestStateRepository(db: Queryable) {
  return {
    /**
     * The worker's own flush, one statement: its `ingest_unflushed` rows (those another
     * process already recovered are simply not found) and its vehicles' newest readings.
     */
    async flush(
      unflushedIds: readonly string[],
      latest: readonly LatestRow[],
      figures: readonly DeviceFigures[] | null,
    ): Promise<AppliedState> {
      const rows = await db.query<{ rows: number; seq_missing_added: number }>(
        `WITH claimed AS (
           DELETE FROM ingest_unflushed WHERE id = ANY($1::bigint[])
           RETURNING figures
         ),
         -- The worker's own sums when they are exact and cover exactly the rows claimed here;
         -- otherwise (a duplicate, or a row another process recovered first) the rows' own.
         exact AS (SELECT $3::json IS NOT NULL AND (SELECT count(*) FROM claimed) = cardinality($1::bigint[]) AS yes),
         -- The worker's sums hold one record per device already: read as records, not summed again.
         figures AS (
           SELECT d AS device_id, to_timestamp(s / 1000.0) AS seen_at, mn AS min_seq, mx AS max_seq, n
             FROM json_to_recordset($3::json) AS g(d text, s float8, mn bigint, mx bigint, n bigint)
            WHERE (SELECT yes FROM exact)
           UNION ALL
           SELECT * FROM (${FIGURES_OF_CLAIMED}) AS own WHERE NOT (SELECT yes FROM exact)
         ),
         ${APPLY_DEVICES},
         latest AS (${UPSERT_LATEST(`
           SELECT v, d, to_timestamp(f / 1000.0), to_timestamp(r / 1000.0), la, lo, s, h, fl, fp, i, b
             FROM json_to_recordset($2::json) AS t(v uuid, d text, f float8, r float8, la float8, lo float8, s real, h real,
                  fl real, fp real, i boolean, b real)
            ORDER BY v`)})
         ${RESULT}`,
        [
          unflushedIds,
          JSON.stringify([...latest].sort((a, b) => (a.vehicleId < b.vehicleId ? -1 : 1)).map(toRecord)),
          figures === null
            ? null
            : JSON.stringify(figures.map((f) => ({ d: f.deviceId, s: f.seenAtMs, mn: f.seqMin, mx: f.seqMax, n: f.seqCount }))),
        ],
      );
      return applied(rows[0]);
    },

    /**
     * Rows left behind by a worker that stopped before adding them (killed, or its database
     * went away), older than `olderThanS` and not among `exceptIds` (the caller's own):
     * their devices' figures are added, and their vehicles' latest positions read again
     * from the stored readings, which hold everything that was committed.
     */
    async recover(olderThanS: number, exceptIds: readonly string[]): Promise<AppliedState> {
      const rows = await db.query<{ rows: number; seq_missing_added: number }>(
        `WITH claimed AS (
           DELETE FROM ingest_unflushed
            WHERE created_at <= now() - make_interval(secs => $1) AND NOT (id = ANY($2::bigint[]))
           RETURNING figures
         ),
         figures AS (${FIGURES_OF_CLAIMED}),
         ${APPLY_DEVICES},
         touched AS (
           SELECT DISTINCT d.vehicle_id FROM figures f JOIN devices d ON d.id = f.device_id
         ),
         latest AS (${UPSERT_LATEST(`
           SELECT n.* FROM touched v
             CROSS JOIN LATERAL (
               SELECT vehicle_id, device_id, fix_at, received_at, lat, lon, speed_kmh, heading_deg,
                      fuel_litres, fuel_percent, ignition, battery_v
                 FROM telemetry t WHERE t.vehicle_id = v.vehicle_id ORDER BY fix_at DESC LIMIT 1) n
            ORDER BY n.vehicle_id`)})
         ${RESULT}`,
        [olderThanS, exceptIds],
      );
      return applied(rows[0]);
    },

    /** How many rows wait to be added, and the age of the oldest in seconds (doctor, metrics). */
    async backlog(): Promise<{ rows: number; oldestAgeS: number | null }> {
      const [row] = await db.query<{ rows: number; oldest_age_s: number | null }>(
        `SELECT count(*)::int AS rows, extract(epoch FROM now() - min(created_at))::float8 AS oldest_age_s FROM ingest_unflushed`,
      );
      return { rows: Number(row?.rows ?? 0), oldestAgeS: row?.oldest_age_s == null ? null : Number(row.oldest_age_s) };
    },
  };
}
export type IngestStateRepository = ReturnType<typeof ingestStateRepository>;
