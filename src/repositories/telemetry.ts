/**
 * The ingest hot path's SQL: one batch of readings and rejections written in one
 * transaction. On PostgreSQL the readings go by binary COPY (./telemetry-copy.ts); the
 * general path (PGlite, and a batch holding a duplicate) is one statement decoding a JSON
 * parameter. Duplicates (same vehicle and fix time: a redelivery or a device re-sending)
 * are skipped by the primary key. The vehicles' latest state and the devices' figures
 * are written behind (src/ingest/state-behind.ts).
 */
import { createHash } from 'node:crypto';
import type { Database } from '../db/client.js';
import { pgErrorCode } from '../db/errors.js';
import { binaryCopyData, TELEMETRY_COLUMNS } from './telemetry-copy.js';
import { dayStartMs, localDayOf } from '../domain/report-time.js';
import type { BoundReading, QuarantineEntry } from '../domain/ingest-types.js';

/** A vehicle whose latest state this batch advanced, with that newest reading. */
export interface LatestAdvance {
  vehicleId: string;
  departmentId: string;
  reading: BoundReading;
}

/** What one batch's statement stored. */
export interface StoredBatch {
  stored: number;
  duplicates: number;
  quarantined: number;
  /** The batch's row of device figures in `ingest_unflushed` (none for a batch of rejections alone). */
  unflushedId: string | null;
  /** Those figures, when they are what was stored (null: a duplicate was skipped, so only that row is right). */
  devices: DeviceFigures[] | null;
}

/** A device's part of a batch: its newest receive time and the seq figures of its stored readings. */
export interface DeviceFigures {
  deviceId: string;
  seenAtMs: number;
  seqMin: number | null;
  seqMax: number | null;
  seqCount: number;
}

/** Each device's figures over these readings, all of them taken as stored. */
export function deviceFigures(readings: readonly BoundReading[]): DeviceFigures[] {
  const byDevice = new Map<string, DeviceFigures>();
  for (const r of readings) {
    let f = byDevice.get(r.deviceId);
    if (!f) {
      f = { deviceId: r.deviceId, seenAtMs: r.receivedAtMs, seqMin: null, seqMax: null, seqCount: 0 };
      byDevice.set(r.deviceId, f);
    } else if (r.receivedAtMs > f.seenAtMs) f.seenAtMs = r.receivedAtMs;
    if (r.seq !== null) {
      f.seqMin = f.seqMin === null || r.seq < f.seqMin ? r.seq : f.seqMin;
      f.seqMax = f.seqMax === null || r.seq > f.seqMax ? r.seq : f.seqMax;
      f.seqCount++;
    }
  }
  return [...byDevice.values()];
}

/** As `ingest_unflushed.figures` holds them (migration 0012). */
export const figureRow = (f: DeviceFigures) => [f.deviceId, f.seenAtMs, f.seqMin, f.seqMax, f.seqCount];

/** A stored batch as the worker accounts for it: with the vehicles whose newest position it moved. */
export interface BatchOutcome extends StoredBatch {
  advanced: LatestAdvance[];
}

export const QUARANTINE_PAYLOAD_MAX_BYTES = 16 * 1024;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Text PostgreSQL can store: U+0000 written out as `\u0000`. A detail can quote the
 * payload (JSON.parse's messages do), and one NUL would fail the whole batch's statement.
 */
const pgText = (s: string) => (s.includes('\u0000') ? s.replaceAll('\u0000', '\\u0000') : s);

/** A batch's rejections as quarantine rows: the same (topic, reason, payload) is one row. */
interface QuarantineRow {
  entry: QuarantineEntry;
  sha256: Buffer;
  times: number;
  lastReceivedAtMs: number;
}

function quarantineRows(rejected: readonly QuarantineEntry[]): QuarantineRow[] {
  const rows = new Map<string, QuarantineRow>();
  for (const entry of rejected) {
    const sha256 = createHash('sha256').update(entry.payload).digest();
    const key = `${entry.topic}\u0000${entry.reason}\u0000${sha256.toString('hex')}`;
    const seen = rows.get(key);
    if (seen) {
      seen.times++;
      seen.lastReceivedAtMs = Math.max(seen.lastReceivedAtMs, entry.receivedAtMs);
    } else rows.set(key, { entry, sha256, times: 1, lastReceivedAtMs: entry.receivedAtMs });
  }
  // In key order, as vehicles and devices are: two batches committing at once that both
  // add to the same rows must take their locks in the same order, or they can deadlock.
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}

/**
 * One reading as a row of the batch's JSON parameter. A single JSON text, decoded by
 * json_to_recordset in PostgreSQL, costs the worker far less than nineteen arrays that
 * the driver escapes element by element; times travel as epoch milliseconds.
 */
function toRecord(r: BoundReading) {
  return {
    v: r.vehicleId,
    d: r.deviceId,
    f: r.fixAtMs,
    r: r.receivedAtMs,
    la: r.lat,
    lo: r.lon,
    s: r.speedKmh,
    h: r.headingDeg,
    a: r.altitudeM,
    sa: r.satellites,
    hd: r.hdop,
    i: r.ignition,
    o: r.odometerKm,
    fl: r.fuelLitres,
    fp: r.fuelPercent,
    fu: r.fuelUsedLitres,
    b: r.batteryV,
    q: r.seq,
    x: r.attributes,
  };
}
const MONTH_MS_KEY = (ms: number) => {
  const d = new Date(ms);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
};

const UNIQUE_VIOLATION = '23505';

/** How far past the worker's clock a report day may already have begun on the database's. */
const LATE_MARGIN_MS = 60 * 60_000;

/** In vehicle and fix order: two batches committing at once take their row locks in the same order. */
const byVehicleAndFix = (a: BoundReading, b: BoundReading) =>
  a.vehicleId < b.vehicleId ? -1 : a.vehicleId > b.vehicleId ? 1 : a.fixAtMs - b.fixAtMs;

/** The start of today in the report time zone, once (not a zone conversion per row). */
const todayCte = (tzParam: number) =>
  `today AS (SELECT date_trunc('day', now() AT TIME ZONE $${tzParam}) AT TIME ZONE $${tzParam} AS start_at)`;

/** Marks the past days that got readings; a fresh mark, as the rollup job clears a day only if its mark did not change meanwhile. */
const LATE_DAYS = (select: string) => `
  INSERT INTO telemetry_late_days (vehicle_id, day)
  ${select}
  ORDER BY 1, 2
  ON CONFLICT (vehicle_id, day) DO UPDATE SET marked_at = excluded.marked_at`;

/**
 * The quarantine rows from ten parameters starting at $first. A payload already
 * quarantined on this topic for this reason (a redelivery of a committed batch, a device
 * repeating itself) is counted on its row, not stored again.
 */
const quarantineCte = (first: number) => {
  const p = (k: number) => `$${first + k}`;
  return `quarantined AS (
    INSERT INTO quarantine AS q (received_at, topic, device_id, reason, detail, payload, payload_bytes, payload_sha256, times_seen, last_received_at)
    SELECT * FROM unnest(${p(0)}::timestamptz[], ${p(1)}::text[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::text[], ${p(5)}::bytea[],
                         ${p(6)}::int[], ${p(7)}::bytea[], ${p(8)}::int[], ${p(9)}::timestamptz[])
    ON CONFLICT (topic, reason, payload_sha256) DO UPDATE SET
      times_seen = q.times_seen + excluded.times_seen,
      last_received_at = greatest(q.last_received_at, excluded.last_received_at),
      detail = excluded.detail,
      device_id = excluded.device_id
  )`;
};

const quarantineParams = (quarantine: readonly QuarantineRow[]) => [
  quarantine.map((q) => iso(q.entry.receivedAtMs)),
  quarantine.map((q) => pgText(q.entry.topic)),
  quarantine.map((q) => (q.entry.deviceId === null ? null : pgText(q.entry.deviceId))),
  quarantine.map((q) => q.entry.reason),
  quarantine.map((q) => pgText(q.entry.detail)),
  quarantine.map((q) => q.entry.payload.subarray(0, QUARANTINE_PAYLOAD_MAX_BYTES)),
  quarantine.map((q) => q.entry.payload.byteLength),
  quarantine.map((q) => q.sha256),
  quarantine.map((q) => q.times),
  quarantine.map((q) => iso(q.lastReceivedAtMs)),
];

export function telemetryWriter(database: Database, options: { reportTz: string }) {
  /** Months whose partition this process knows exists; a miss costs one cheap function call. */
  const knownMonths = new Set<number>();

  /** Outside the batch's transaction, so a rolled-back batch cannot leave a month marked known. */
  async function ensurePartitions(readings: readonly BoundReading[]): Promise<void> {
    const missing = new Map<number, number>();
    for (const r of readings) {
      const key = MONTH_MS_KEY(r.fixAtMs);
      if (!knownMonths.has(key) && !missing.has(key)) missing.set(key, r.fixAtMs);
    }
    for (const [key, ms] of missing) {
      await database.query('SELECT armada_ensure_telemetry_partition($1)', [iso(ms)]);
      knownMonths.add(key);
    }
  }

  /**
   * The general path (PGlite, and PostgreSQL when a batch holds a duplicate): the whole
   * batch in one statement (data-modifying CTEs), so it is one round trip and one implicit
   * transaction: readings, the devices' last seen time and seq figures (as one
   * `ingest_unflushed` row), the late-data days, and the quarantine. Each vehicle's latest
   * state and the devices' rows are not written here but about once a second
   * (src/ingest/state-behind.ts): a row per reading for each was half the database's work.
   */
  async function writeInOneStatement(readings: readonly BoundReading[], quarantine: readonly QuarantineRow[], figures: DeviceFigures[]) {
    const sorted = [...readings].sort(byVehicleAndFix);
    const rows = await database.query<{ stored: number; unflushed_id: string | null }>(
      `WITH input AS (
         SELECT v AS vehicle_id, d AS device_id, to_timestamp(f / 1000.0) AS fix_at, to_timestamp(r / 1000.0) AS received_at,
                la AS lat, lo AS lon, s AS speed_kmh, h AS heading_deg, a AS altitude_m, sa AS satellites, hd AS hdop,
                i AS ignition, o AS odometer_km, fl AS fuel_litres, fp AS fuel_percent, fu AS fuel_used_litres,
                b AS battery_v, q AS seq, x AS attributes
         FROM json_to_recordset($1::json) AS t(v uuid, d text, f float8, r float8, la float8, lo float8, s real, h real,
              a real, sa smallint, hd real, i boolean, o float8, fl real, fp real, fu float8, b real, q bigint, x jsonb)
       ),
       ins AS (
         INSERT INTO telemetry (${TELEMETRY_COLUMNS})
         SELECT * FROM input
         ON CONFLICT DO NOTHING
         RETURNING vehicle_id, device_id, fix_at, seq
       ),
       unflushed AS (
         -- The devices' figures travel with the readings; the worker adds them to devices
         -- about once a second (src/ingest/state-behind.ts), not a device row per reading.
         -- Figured by the worker ($3) unless a reading was a duplicate: then from what was stored.
         INSERT INTO ingest_unflushed (figures)
         SELECT CASE WHEN (SELECT count(*) FROM ins) = $4 THEN $3
                     ELSE (SELECT json_agg(json_build_array(device_id, seen_ms, min_seq, max_seq, n))::text FROM (
                             SELECT i.device_id, (extract(epoch FROM max(i.received_at)) * 1000)::float8 AS seen_ms,
                                    s.min_seq, s.max_seq, coalesce(s.n, 0) AS n
                               FROM input i
                               LEFT JOIN (SELECT device_id, min(seq) AS min_seq, max(seq) AS max_seq, count(seq) AS n
                                            FROM ins GROUP BY device_id) s ON s.device_id = i.device_id
                              GROUP BY i.device_id, s.min_seq, s.max_seq, s.n) seen) END
         WHERE $4 > 0
         RETURNING id
       ),
       ${todayCte(2)},
       late AS (${LATE_DAYS('SELECT DISTINCT ins.vehicle_id, (ins.fix_at AT TIME ZONE $2)::date FROM ins, today WHERE ins.fix_at < today.start_at')}),
       ${quarantineCte(5)}
       SELECT (SELECT count(*)::int FROM ins) AS stored,
              (SELECT id::text FROM unflushed) AS unflushed_id`,
      [
        JSON.stringify(sorted.map(toRecord)),
        options.reportTz,
        JSON.stringify(figures.map(figureRow)),
        readings.length,
        ...quarantineParams(quarantine),
      ],
    );
    const row = rows[0]!;
    return {
      stored: row.stored,
      duplicates: readings.length - row.stored,
      quarantined: quarantine.reduce((n, q) => n + q.times, 0),
      unflushedId: row.unflushed_id,
      // With a duplicate among them, the worker's figures counted a reading that was not stored.
      devices: row.stored === readings.length ? figures : null,
    };
  }

  /**
   * PostgreSQL's path: the readings by binary `COPY` (./telemetry-copy.ts: no conflict
   * check per row, no text to print or parse), then one statement for the rest, in one
   * transaction. A duplicate makes the COPY fail (unique violation): the transaction is
   * rolled back and the batch written by the general path, which skips it. Duplicates
   * come with redeliveries, which are rare.
   */
  async function writeByCopy(readings: readonly BoundReading[], quarantine: readonly QuarantineRow[], figures: DeviceFigures[]) {
    // Readings that may be for a past report day: a superset, decided exactly by the database's clock.
    const lateBeforeMs = dayStartMs(options.reportTz, localDayOf(options.reportTz, Date.now() + LATE_MARGIN_MS));
    const lateVehicles: string[] = [];
    const lateFixes: string[] = [];
    for (const r of readings) {
      if (r.fixAtMs < lateBeforeMs) {
        lateVehicles.push(r.vehicleId);
        lateFixes.push(iso(r.fixAtMs));
      }
    }
    const rows = await database.transaction(async (tx) => {
      await tx.copyFrom!(
        `COPY telemetry (${TELEMETRY_COLUMNS}) FROM STDIN WITH (FORMAT binary)`,
        binaryCopyData([...readings].sort(byVehicleAndFix)),
      );
      return tx.query<{ unflushed_id: string | null }>(
        `WITH unflushed AS (
           INSERT INTO ingest_unflushed (figures) SELECT $3::text WHERE $3::text IS NOT NULL RETURNING id
         ),
         ${todayCte(2)},
         late AS (${LATE_DAYS(`SELECT DISTINCT c.vehicle_id, (c.fix_at AT TIME ZONE $2)::date
                                 FROM unnest($1::uuid[], $4::timestamptz[]) AS c(vehicle_id, fix_at), today
                                WHERE c.fix_at < today.start_at`)}),
         ${quarantineCte(5)}
         SELECT (SELECT id::text FROM unflushed) AS unflushed_id`,
        [
          lateVehicles,
          options.reportTz,
          readings.length > 0 ? JSON.stringify(figures.map(figureRow)) : null,
          lateFixes,
          ...quarantineParams(quarantine),
        ],
      );
    });
    return {
      stored: readings.length,
      duplicates: 0,
      quarantined: quarantine.reduce((n, q) => n + q.times, 0),
      unflushedId: rows[0]!.unflushed_id,
      devices: figures,
    };
  }

  return {
    /** Writes one batch atomically: either all of it is committed or none of it. */
    async writeBatch(readings: readonly BoundReading[], rejected: readonly QuarantineEntry[]): Promise<StoredBatch> {
      if (readings.length === 0 && rejected.length === 0)
        return { stored: 0, duplicates: 0, quarantined: 0, unflushedId: null, devices: [] };
      await ensurePartitions(readings);
      const quarantine = quarantineRows(rejected);
      const figures = deviceFigures(readings);
      if (database.kind === 'postgres' && readings.length > 0) {
        try {
          return await writeByCopy(readings, quarantine, figures);
        } catch (err) {
          if (pgErrorCode(err) !== UNIQUE_VIOLATION) throw err;
        }
      }
      return writeInOneStatement(readings, quarantine, figures);
    },
  };
}
export type TelemetryWriter = ReturnType<typeof telemetryWriter>;
