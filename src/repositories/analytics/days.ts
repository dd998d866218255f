/**
 * A report day's stored figures as one: its rollup row, trips and stops, and fuel events,
 * written together in one transaction (readers never see half a day) with the month row
 * they add up to, and read back together.
 */
import type { Database, Queryable } from '../../db/client.js';
import type { WindowAnalysis, SegmentPiece } from '../../domain/analysis.js';
import type { FuelEvent } from '../../domain/fuel/index.js';
import { monthOf, type LocalDay } from '../../domain/report-time.js';
import { deleteFuelEvents, insertFuelEvents, readFuelEvents } from './fuel-events.js';
import { deleteDayRollup, readDayRollups, rebuildMonths, refreshMonth, upsertDayRollup, type RollupRow } from './rollups.js';
import { deleteSegments, insertSegments, readSegments } from './segments.js';

export interface StoredDays {
  rollups: Map<LocalDay, RollupRow>;
  segments: Map<LocalDay, SegmentPiece[]>;
  events: Map<LocalDay, FuelEvent[]>;
}

async function saveDay(tx: Queryable, vehicleId: string, day: LocalDay, a: WindowAnalysis, computedAtMs: number): Promise<void> {
  await deleteSegments(tx, vehicleId, day);
  await deleteFuelEvents(tx, vehicleId, day);
  if (a.metrics.points === 0 && a.segments.length === 0) {
    // Nothing happened that day (any more): no row, which the reports read as zero.
    await deleteDayRollup(tx, vehicleId, day);
    return;
  }
  await upsertDayRollup(tx, vehicleId, day, a, computedAtMs);
  await insertSegments(tx, vehicleId, day, a.segments);
  await insertFuelEvents(
    tx,
    vehicleId,
    day,
    [...a.fuel.refuels, ...a.fuel.drains].sort((x, y) => x.atMs - y.atMs),
  );
}

export function dayQueries(database: Database) {
  return {
    /** Replaces the stored figures of these days (one transaction, so readers never see half a day). */
    async saveDays(
      vehicleId: string,
      days: ReadonlyArray<{ day: LocalDay; analysis: WindowAnalysis }>,
      computedAtMs: number,
    ): Promise<void> {
      await database.transaction(async (tx) => {
        for (const d of days) await saveDay(tx, vehicleId, d.day, d.analysis, computedAtMs);
        for (const month of new Set(days.map((d) => monthOf(d.day)))) await refreshMonth(tx, vehicleId, month);
      });
    },

    /** The stored rollups, trips, stops and fuel events of [firstDay, lastDay]. */
    async storedDays(vehicleId: string, firstDay: LocalDay, lastDay: LocalDay): Promise<StoredDays> {
      const [rollups, segments, events] = await Promise.all([
        readDayRollups(database, vehicleId, firstDay, lastDay),
        readSegments(database, vehicleId, firstDay, lastDay),
        readFuelEvents(database, vehicleId, firstDay, lastDay),
      ]);
      return { rollups, segments, events };
    },

    /** Rewrites every month row from the day rows (after day rows were written by other means: a restore, the benchmark). */
    async rebuildMonthRollups(): Promise<void> {
      await database.transaction((tx) => rebuildMonths(tx));
    },
  };
}
