/**
 * Keeps the daily rollups (and each day's trips, stops and fuel events) current.
 *
 * Every run (ROLLUP_INTERVAL_S, default 60 s):
 *  1. Vehicles heard from since their last computation (a tracker's `last_seen_at`
 *     moved, for any reading stored, in order or not) get every report day from the one
 *     that held their last computation (less the hour of context a day's edges need)
 *     up to today recomputed. Right after midnight that includes yesterday, so a day is
 *     finished with the readings of its last minutes. A vehicle is looked at again until
 *     a computation started two minutes after its last reading, so a reading received
 *     just before a run but committed after it is not missed.
 *  2. Past days that received late readings (`telemetry_late_days`, written by ingest)
 *     are recomputed with their neighbours, whose edges they share; their marks are then
 *     removed, each only if unchanged since the run read it, so a mark made (or renewed:
 *     ingest sets `marked_at` again for a day marked before) while it ran stays.
 *  3. A vehicle the job has never seen gets all its days, from its first reading.
 * Only one process runs it at a time on PostgreSQL (an advisory lock); each vehicle's
 * days are replaced in one transaction, so readers never see half a day.
 *
 * It shares the process with ingest, and on PGlite the database too, which runs in the
 * same thread: a run that went from vehicle to vehicle without a pause held the event
 * loop for as long as it took (about 17 s for 2,000 vehicles after a restart), and the
 * devices' readings waited. So the first timed run waits ROLLUP_START_DELAY_S after start
 * (the devices reconnecting after a restart flush their buffers first), and a run steps
 * aside for the event loop (`setImmediate`) after each vehicle and each stored stretch of
 * days: I/O, ingest's commits and the API's requests get their turn in between.
 */
import type { Logger } from 'pino';
import { analyseWindow } from '../domain/analysis.js';
import { addDays, daysBetween, dayRangeMs, localDayOf, type LocalDay } from '../domain/report-time.js';
import type { AnalysisReading } from '../domain/trips.js';
import { ALL_DEPARTMENTS } from '../repositories/scope.js';
import type { AnalyticsRepository } from '../repositories/analytics/index.js';
import type { VehicleRepository } from '../repositories/vehicles.js';
import { contextMs, type Analytics, type AnalysedVehicle } from './service.js';

/** A vehicle is recomputed until a run starts this long after its last reading was received. */
export const SETTLE_MS = 120_000;
/** Days fetched in one query when a vehicle needs many (its first computation). */
const DAYS_PER_FETCH = 14;
const LATE_MARKS_PER_RUN = 5000;

export interface RollupJobDeps {
  analytics: Analytics;
  /** Where the days are stored. */
  analyticsRepo: AnalyticsRepository;
  vehicles: Pick<VehicleRepository, 'list'>;
  logger: Logger;
  now?: () => Date;
  /** Run every this many seconds (default: the analytics settings' rollupIntervalS). */
  intervalS?: number;
  /** The first timed run this many seconds after start (default: the analytics settings' rollupStartDelayS). */
  startDelayS?: number;
}

export interface RollupRunSummary {
  vehicles: number;
  days: number;
  lateDays: number;
  failed: number;
  skipped: boolean;
  durationMs: number;
}

export interface RollupJob {
  /** One run now (after a run in progress here or in another process). */
  runOnce(): Promise<RollupRunSummary>;
  stop(): Promise<void>;
}

/** Lets timers, I/O and other work run before the job goes on (a macrotask, not a microtask). */
const stepAside = () => new Promise<void>((resolve) => setImmediate(resolve));

export function startRollupJob(deps: RollupJobDeps, options: { autoStart?: boolean } = {}): RollupJob {
  const { analytics, logger } = deps;
  const repo = deps.analyticsRepo;
  const tz = analytics.settings.reportTz;
  const now = deps.now ?? (() => new Date());
  const intervalMs = (deps.intervalS ?? analytics.settings.rollupIntervalS) * 1000;
  const startDelayMs = (deps.startDelayS ?? analytics.settings.rollupStartDelayS) * 1000;
  const ctx = contextMs(analytics.settings.trips);
  /** Runs never overlap: each waits for the one before. */
  let chain: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  async function computeDays(vehicle: AnalysedVehicle, days: LocalDay[], computedAtMs: number): Promise<void> {
    const sorted = [...new Set(days)].sort();
    for (let i = 0; i < sorted.length; ) {
      // A run of consecutive days, fetched together.
      let j = i;
      while (j + 1 < sorted.length && j - i + 1 < DAYS_PER_FETCH && daysBetween(sorted[j]!, sorted[j + 1]!) === 1) j++;
      const first = dayRangeMs(tz, sorted[i]!);
      const last = dayRangeMs(tz, sorted[j]!);
      const readings = await repo.readings(vehicle.id, first.startMs - ctx.beforeMs, last.endMs + ctx.afterMs);
      const results = [];
      let lo = 0;
      for (let k = i; k <= j; k++) {
        const { startMs, endMs } = dayRangeMs(tz, sorted[k]!);
        while (lo < readings.length && readings[lo]!.fixAtMs < startMs - ctx.beforeMs) lo++;
        let hi = lo;
        while (hi < readings.length && readings[hi]!.fixAtMs < endMs + ctx.afterMs) hi++;
        const slice: AnalysisReading[] = readings.slice(lo, hi);
        const analysis = analyseWindow(
          slice,
          vehicle,
          { trips: analytics.settings.trips, fuel: analytics.settings.fuel, tz, workingHours: analytics.settings.workingHours },
          startMs,
          endMs,
        );
        results.push({ day: sorted[k]!, analysis });
      }
      await repo.saveDays(vehicle.id, results, computedAtMs);
      i = j + 1;
      if (i < sorted.length) await stepAside();
    }
  }

  async function run(): Promise<RollupRunSummary> {
    const started = now().getTime();
    const summary: RollupRunSummary = { vehicles: 0, days: 0, lateDays: 0, failed: 0, skipped: false, durationMs: 0 };
    const today = localDayOf(tz, started);
    const lastDay = localDayOf(tz, started + 300_000);
    const fleet = new Map((await deps.vehicles.list(ALL_DEPARTMENTS)).map((v) => [v.id, v]));

    const work = new Map<
      string,
      { days: Set<LocalDay>; late: Array<{ day: LocalDay; markedAt: string }>; seenAtMs: number | null | undefined }
    >();
    const entry = (id: string) => {
      let w = work.get(id);
      if (!w) work.set(id, (w = { days: new Set(), late: [], seenAtMs: undefined }));
      return w;
    };

    for (const mark of await repo.pendingLateDays(LATE_MARKS_PER_RUN)) {
      const w = entry(mark.vehicleId);
      w.late.push({ day: mark.day, markedAt: mark.markedAt });
      for (const d of [addDays(mark.day, -1), mark.day, addDays(mark.day, 1)]) if (d <= lastDay) w.days.add(d);
    }

    for (const c of await repo.refreshCandidates(SETTLE_MS)) {
      const w = entry(c.vehicleId);
      w.seenAtMs = c.seenAtMs;
      let from: LocalDay;
      if (c.state) {
        from = localDayOf(tz, Math.min(c.state.computedAtMs, c.state.seenAtMs ?? c.state.computedAtMs) - ctx.afterMs);
      } else {
        await stepAside();
        const range = await repo.fixRange(c.vehicleId);
        if (!range) continue;
        from = localDayOf(tz, range.firstMs);
      }
      for (let d = from; d <= lastDay; d = addDays(d, 1)) w.days.add(d);
    }

    for (const [vehicleId, w] of work) {
      await stepAside();
      if (stopped) break;
      const vehicle = fleet.get(vehicleId);
      try {
        if (vehicle) {
          await computeDays(vehicle, [...w.days], started);
          summary.days += w.days.size;
        }
        if (w.seenAtMs !== undefined) await repo.setState(vehicleId, w.seenAtMs, started);
        await repo.clearLateDays(vehicleId, w.late);
        summary.lateDays += w.late.length;
        summary.vehicles++;
      } catch (err) {
        summary.failed++;
        logger.error({ err, vehicleId }, 'rollup of a vehicle failed; it is retried on the next run');
      }
    }
    summary.durationMs = now().getTime() - started;
    if (summary.vehicles > 0) logger.debug({ ...summary, today }, 'rollup run');
    return summary;
  }

  /**
   * On PostgreSQL only one process runs the job at a time; PGlite has one process anyway.
   * A timed run skips when another process is at it; a run asked for waits its turn.
   */
  async function runExclusive(wait: boolean): Promise<RollupRunSummary> {
    const summary = await deps.analyticsRepo.withJobLock(wait, run);
    return summary ?? { vehicles: 0, days: 0, lateDays: 0, failed: 0, skipped: true, durationMs: 0 };
  }

  function enqueue(wait: boolean): Promise<RollupRunSummary> {
    const next = chain.then(() => runExclusive(wait));
    chain = next.catch(() => undefined);
    return next;
  }
  const runOnce = () => enqueue(true);

  function schedule(delayMs: number) {
    if (stopped) return;
    timer = setTimeout(async () => {
      timer = null;
      try {
        await enqueue(false);
      } catch (err) {
        logger.error({ err }, 'rollup run failed');
      }
      schedule(intervalMs);
    }, delayMs);
    timer.unref?.();
  }
  if (options.autoStart !== false) schedule(startDelayMs);

  return {
    runOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await chain;
    },
  };
}
