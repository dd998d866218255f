/**
 * Latest state written behind the readings. A stored reading used to update its vehicle's
 * `vehicle_latest` row and its device's `devices` row in the batch's own statement: two
 * row writes for every reading, half of what PostgreSQL spent on ingest (BENCHMARKS.md).
 * Now a batch stores its readings and one `ingest_unflushed` row with its devices'
 * figures; this module keeps the vehicles' newest readings in memory and writes both
 * about once a second (`STATE_FLUSH_MS`), so a vehicle reporting every second or faster
 * costs one latest write a second, not one a reading. A flush that took long spaces the
 * next one out (up to ten intervals, `nextFlushDelayMs`): 10,000 vehicles are written
 * every few seconds, and a database that slows down gets fewer state writes.
 *
 * Nothing acknowledged is lost by a crash: the readings and the devices' figures are in
 * the batch's transaction. Whatever the worker held in memory is rebuilt from them:
 *   - on start, before the first batch, every `ingest_unflushed` row is added to the
 *     devices and its vehicles' latest positions are read again from `telemetry`
 *     (the newest row per vehicle, by its primary key);
 *   - every half minute, rows older than that (a worker that died while others run)
 *     are recovered the same way. Only the statement that deletes a row adds it, so
 *     each row counts once whichever process gets to it.
 *
 * What reads the state and how it stays right while it is a flush behind (a second,
 * up to ten under load):
 *   - the API's latest positions (and the live feed's snapshot) take the newer of
 *     `vehicle_latest` and the vehicle's newest stored reading (src/repositories/positions.ts),
 *     so a position already pushed live is never missing from a snapshot;
 *   - the jump filter starts from `vehicle_latest` after the start-up recovery;
 *   - the rollup job and the silent-device alerts read `devices.last_seen_at`, which
 *     is at most a flush behind: a vehicle is recomputed, or found silent, seconds later,
 *     against silence thresholds of minutes.
 */
import type { Logger } from 'pino';
import type { BoundReading, QuarantineEntry } from '../domain/ingest-types.js';
import type { IngestStateRepository, LatestRow } from '../repositories/ingest-state.js';
import type { BatchOutcome, DeviceFigures, LatestAdvance, TelemetryWriter } from '../repositories/telemetry.js';

/** How often the latest positions and device figures are written, at the most. */
const STATE_FLUSH_MS = 1000;
/**
 * A flush costs the database 15–20 µs of CPU for each vehicle it covers (10,000
 * vehicles: 170–200 ms), however few readings each vehicle sent. The next flush waits
 * at least this many times as long as the last one took, so the state writes take at most
 * about a twentieth of the database's time: a big or busy fleet's state falls a few
 * seconds behind instead of taking the database's time from the readings.
 */
const FLUSH_BACKOFF_FACTOR = 20;
/** ... but never longer than this many flush intervals. */
const FLUSH_MAX_STRETCH = 10;

/** The wait before the next flush, after one that took `lastTookMs`. */
const nextFlushDelayMs = (flushMs: number, lastTookMs: number) =>
  Math.min(flushMs * FLUSH_MAX_STRETCH, Math.max(flushMs, Math.round(lastTookMs * FLUSH_BACKOFF_FACTOR)));

/**
 * When `ingest_unflushed` rows are taken as left behind by a worker that stopped: a live
 * worker's are at most a flush or two old, so three of the longest waits between flushes,
 * and at least half a minute.
 */
export const leftBehindAfterS = (flushMs: number) => Math.max(30, Math.ceil((3 * FLUSH_MAX_STRETCH * flushMs) / 1000));

export interface StateBehindOptions {
  repo: Pick<IngestStateRepository, 'flush' | 'recover'>;
  /** Every vehicle's newest committed fix time, read once at start (after the recovery). */
  loadNewest: () => Promise<Iterable<readonly [vehicleId: string, fixAtMs: number]>>;
  logger: Logger;
  /** Readings newly found missing from devices' seq counters. */
  onSeqMissing?: (readings: number) => void;
  /** How many committed batches' state this process holds unwritten, whenever that changes. */
  onUnwritten?: (batches: number) => void;
  flushMs?: number;
  /** Default: leftBehindAfterS(flushMs). */
  leftBehindAfterS?: number;
  /** Milliseconds of a monotonic clock, to time the flushes (tests give a fake one). */
  now?: () => number;
}

const latestRow = (r: BoundReading): LatestRow => ({
  vehicleId: r.vehicleId,
  deviceId: r.deviceId,
  fixAtMs: r.fixAtMs,
  receivedAtMs: r.receivedAtMs,
  lat: r.lat,
  lon: r.lon,
  speedKmh: r.speedKmh,
  headingDeg: r.headingDeg,
  fuelLitres: r.fuelLitres,
  fuelPercent: r.fuelPercent,
  ignition: r.ignition,
  batteryV: r.batteryV,
});

/** Adds a batch's figures to the sums (in place). */
function addFigures(sums: Map<string, DeviceFigures>, more: Iterable<DeviceFigures>): Map<string, DeviceFigures> {
  for (const f of more) {
    const sum = sums.get(f.deviceId);
    if (!sum) {
      sums.set(f.deviceId, { ...f });
      continue;
    }
    sum.seenAtMs = Math.max(sum.seenAtMs, f.seenAtMs);
    if (f.seqMin !== null && (sum.seqMin === null || f.seqMin < sum.seqMin)) sum.seqMin = f.seqMin;
    if (f.seqMax !== null && (sum.seqMax === null || f.seqMax > sum.seqMax)) sum.seqMax = f.seqMax;
    sum.seqCount += f.seqCount;
  }
  return sums;
}

export function stateBehind(writer: Pick<TelemetryWriter, 'writeBatch'>, options: StateBehindOptions) {
  const { repo, logger } = options;
  const flushMs = options.flushMs ?? STATE_FLUSH_MS;
  const leftBehindS = options.leftBehindAfterS ?? leftBehindAfterS(flushMs);
  /** Each vehicle's newest committed fix time that this process knows of. */
  const newest = new Map<string, number>();
  /** Not yet written: the vehicles' newest readings, and this process's `ingest_unflushed` rows. */
  let latest = new Map<string, BoundReading>();
  let unflushedIds: string[] = [];
  /** The devices' figures summed over those rows; null once a batch's own were not exact. */
  let figures: Map<string, DeviceFigures> | null = new Map();
  let chain: Promise<void> = Promise.resolve();
  let flushTimer: NodeJS.Timeout | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  const now = options.now ?? (() => performance.now());
  /** How long the last flush statement took, to space the next one (nextFlushDelayMs). */
  let lastTookMs = 0;

  const seqMissing = (n: number) => {
    if (n > 0) options.onSeqMissing?.(n);
  };

  async function flushOnce(): Promise<void> {
    if (unflushedIds.length === 0 && latest.size === 0) return;
    const ids = unflushedIds;
    const rows = latest;
    const sums = figures;
    unflushedIds = [];
    latest = new Map();
    figures = new Map();
    const started = now();
    try {
      seqMissing((await repo.flush(ids, [...rows.values()].map(latestRow), sums && [...sums.values()])).seqMissingAdded);
      lastTookMs = now() - started;
      options.onUnwritten?.(unflushedIds.length);
    } catch (err) {
      lastTookMs = now() - started;
      // Taken back, behind what came meanwhile: the next flush writes both.
      unflushedIds = ids.concat(unflushedIds);
      for (const [vehicleId, reading] of rows) {
        const later = latest.get(vehicleId);
        if (!later || later.fixAtMs < reading.fixAtMs) latest.set(vehicleId, reading);
      }
      figures = sums && figures && addFigures(sums, figures.values());
      options.onUnwritten?.(unflushedIds.length);
      throw err;
    }
  }

  /** Runs after any flush under way, so it covers everything committed before the call. */
  function flush(): Promise<void> {
    const run = chain.then(flushOnce);
    chain = run.catch(() => undefined);
    return run;
  }

  /** The timed flushes: each waits after the last by nextFlushDelayMs. */
  function scheduleFlush(delayMs: number): void {
    flushTimer = setTimeout(() => {
      flush()
        .catch((err: Error) => logger.warn({ err: err.message }, 'ingest: latest state not written; trying again'))
        .finally(() => {
          if (!stopped) scheduleFlush(nextFlushDelayMs(flushMs, lastTookMs));
        });
    }, delayMs);
    flushTimer.unref();
  }

  async function sweep(olderThanS: number): Promise<void> {
    const recovered = await repo.recover(olderThanS, unflushedIds);
    if (recovered.rows > 0) logger.info({ rows: recovered.rows }, 'ingest: added device figures a stopped worker left behind');
    seqMissing(recovered.seqMissingAdded);
  }

  return {
    /** Before the first batch: what a stopped worker left behind is added, then the newest fixes read. */
    async start(): Promise<void> {
      await sweep(0);
      for (const [vehicleId, fixAtMs] of await options.loadNewest()) {
        if (fixAtMs > (newest.get(vehicleId) ?? Number.NEGATIVE_INFINITY)) newest.set(vehicleId, fixAtMs);
      }
      stopped = false;
      scheduleFlush(flushMs);
      sweepTimer = setInterval(() => {
        sweep(leftBehindS).catch((err: Error) => logger.warn({ err: err.message }, 'ingest: could not recover left-behind device figures'));
      }, leftBehindS * 1000);
      sweepTimer.unref();
    },

    /** Stores a batch and answers which vehicles' newest positions it moved (to be announced live). */
    async writeBatch(readings: readonly BoundReading[], rejected: readonly QuarantineEntry[]): Promise<BatchOutcome> {
      const stored = await writer.writeBatch(readings, rejected);
      if (stored.unflushedId !== null) {
        unflushedIds.push(stored.unflushedId);
        figures = figures && stored.devices && addFigures(figures, stored.devices);
        options.onUnwritten?.(unflushedIds.length);
      }
      const batchNewest = new Map<string, BoundReading>();
      for (const r of readings) {
        const seen = batchNewest.get(r.vehicleId);
        if (!seen || r.fixAtMs > seen.fixAtMs) batchNewest.set(r.vehicleId, r);
      }
      const advanced: LatestAdvance[] = [];
      for (const [vehicleId, reading] of batchNewest) {
        const known = newest.get(vehicleId);
        if (known !== undefined && known >= reading.fixAtMs) continue;
        newest.set(vehicleId, reading.fixAtMs);
        latest.set(vehicleId, reading);
        advanced.push({ vehicleId, departmentId: reading.departmentId, reading });
      }
      return { ...stored, advanced };
    },

    /** Writes what is held now (tests, `idle()`); rejects if the database refuses, keeping it for the next try. */
    flush,

    /** Stops the timers and writes what is held; what cannot be written is recovered at the next start. */
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(flushTimer);
      clearInterval(sweepTimer);
      await flush().catch((err: Error) =>
        logger.warn({ err: err.message }, 'ingest: latest state not written at stop; the next start recovers it from the readings'),
      );
    },
  };
}
export type StateBehind = ReturnType<typeof stateBehind>;
