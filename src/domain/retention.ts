/**
 * Telemetry retention, the pure part: which UTC month partitions are old enough to drop,
 * which report months (in REPORT_TZ) each one touches, the ingest horizon a drop sets, and
 * the ingest filter that keeps late readings out of dropped months
 * (the job itself: src/ops/retention.ts; docs/operations.md).
 */
import { addDays, dayStartMs, localDayOf, type LocalDay } from './report-time.js';

/** A UTC calendar month, `YYYY-MM`: the unit telemetry is partitioned by. */
export type UtcMonth = string;

const MONTH = /^(\d{4})-(\d{2})$/;

function parseMonth(month: UtcMonth): { y: number; m: number } {
  const match = MONTH.exec(month);
  if (!match) throw new Error(`not a month (YYYY-MM): ${month}`);
  return { y: Number(match[1]), m: Number(match[2]) };
}

/** [start, end) of a UTC month in epoch ms. */
export function utcMonthRangeMs(month: UtcMonth): { startMs: number; endMs: number } {
  const { y, m } = parseMonth(month);
  return { startMs: Date.UTC(y, m - 1, 1), endMs: Date.UTC(y, m, 1) };
}

export function utcMonthOf(ms: number): UtcMonth {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

export function addUtcMonths(month: UtcMonth, n: number): UtcMonth {
  const { y, m } = parseMonth(month);
  return utcMonthOf(Date.UTC(y, m - 1 + n, 1));
}

/** The partition table of a month, as armada_ensure_telemetry_partition names it. */
export const partitionName = (month: UtcMonth): string => `telemetry_${month.replace('-', '_')}`;

/** The month of a partition table name, or undefined for a table that is not one. */
export function monthOfPartition(name: string): UtcMonth | undefined {
  const m = /^telemetry_(\d{4})_(\d{2})$/.exec(name);
  return m ? `${m[1]}-${m[2]}` : undefined;
}

/**
 * The newest month that may be dropped with `keepMonths` months kept before the current
 * one (UTC): with 4 kept in December, July and older. Undefined when 0 (keep everything).
 */
export function newestDroppableMonth(nowMs: number, keepMonths: number): UtcMonth | undefined {
  if (keepMonths <= 0) return undefined;
  return addUtcMonths(utcMonthOf(nowMs), -(keepMonths + 1));
}

/**
 * The report months (`YYYY-MM` in `tz`) that hold some instant of the UTC month: east of
 * UTC a partition also holds the first hours of the next report month, west of it the
 * last hours of the previous one. Each must be closed before the partition goes.
 */
export function reportMonthsOf(tz: string, month: UtcMonth): string[] {
  const { startMs, endMs } = utcMonthRangeMs(month);
  const first = localDayOf(tz, startMs).slice(0, 7);
  const last = localDayOf(tz, endMs - 1).slice(0, 7);
  return first === last ? [first] : [first, last];
}

/**
 * The ingest horizon once the month ending at `endMs` is dropped: the start of the first
 * report day whose recomputation cannot reach into the dropped month. A late reading marks
 * its day, and the rollup job recomputes that day and its neighbours from their readings
 * with `contextBeforeMs` of the day before; so the day before the first accepted day must
 * itself start `contextBeforeMs` after the dropped month ends. The readings of the few
 * report days in between, still stored, are quarantined when late, like the dropped month's.
 */
export function keptFromMs(tz: string, endMs: number, contextBeforeMs: number): number {
  let day: LocalDay = localDayOf(tz, endMs + contextBeforeMs);
  if (dayStartMs(tz, day) < endMs + contextBeforeMs) day = addDays(day, 1);
  return dayStartMs(tz, addDays(day, 1));
}

/**
 * The ingest filter: a reading older than the horizon belongs to a month whose raw
 * telemetry is gone (or to the report days beside it whose rollups are final).
 */
export function beyondRetention(fixAtMs: number, horizonMs: number | undefined): { reason: 'beyond_retention'; detail: string } | null {
  if (horizonMs === undefined || fixAtMs >= horizonMs) return null;
  return {
    reason: 'beyond_retention',
    detail:
      `fix time ${new Date(fixAtMs).toISOString()} is before ${new Date(horizonMs).toISOString()}, ` +
      'where the raw telemetry kept begins (TELEMETRY_RETENTION_MONTHS): its month was dropped and its reports are final',
  };
}
