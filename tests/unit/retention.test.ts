/** The pure part of the telemetry retention: months, report months, the horizon and the ingest filter. */
import { describe, expect, it } from 'vitest';
import { dayStartMs } from '../../src/domain/report-time.js';
import {
  beyondRetention,
  keptFromMs,
  monthOfPartition,
  newestDroppableMonth,
  partitionName,
  reportMonthsOf,
  utcMonthRangeMs,
} from '../../src/domain/retention.js';
import { createPipeline, type RawMessage } from '../../src/ingest/pipeline.js';

const HOUR = 3600_000;

describe('retention months', () => {
  it('keeps the current month and the N before it', () => {
    expect(newestDroppableMonth(Date.parse('2026-12-06T05:00:00Z'), 4)).toBe('2026-07');
    expect(newestDroppableMonth(Date.parse('2026-01-01T00:00:00Z'), 4)).toBe('2025-08');
    expect(newestDroppableMonth(Date.now(), 0)).toBeUndefined();
  });

  it('names partitions as the database function does', () => {
    expect(partitionName('2026-01')).toBe('telemetry_2026_01');
    expect(monthOfPartition('telemetry_2026_01')).toBe('2026-01');
    expect(monthOfPartition('telemetry_default')).toBeUndefined();
  });

  it('finds the report months a UTC partition touches, east and west of UTC', () => {
    expect(reportMonthsOf('Asia/Makassar', '2026-01')).toEqual(['2026-01', '2026-02']);
    expect(reportMonthsOf('America/New_York', '2026-01')).toEqual(['2025-12', '2026-01']);
    expect(reportMonthsOf('UTC', '2026-01')).toEqual(['2026-01']);
  });

  it('sets the horizon where recomputing the first kept day cannot reach into the dropped month', () => {
    const { endMs } = utcMonthRangeMs('2026-01'); // 2026-02-01T00:00Z = 08:00 in Makassar
    const horizon = keptFromMs('Asia/Makassar', endMs, 3 * HOUR);
    // 2026-02-01 (Makassar) starts before the month's end; 2026-02-02 is the first whole day
    // 3 h after it; its recomputation may touch the day before, so 2026-02-03 is the first accepted.
    expect(horizon).toBe(dayStartMs('Asia/Makassar', '2026-02-03'));
    const dayBefore = dayStartMs('Asia/Makassar', '2026-02-02');
    expect(dayBefore - 3 * HOUR).toBeGreaterThanOrEqual(endMs);
  });
});

describe('the beyond_retention filter', () => {
  const horizon = Date.parse('2026-02-02T16:00:00Z');
  it('rejects a reading before the horizon and keeps one at or after it', () => {
    expect(beyondRetention(horizon - 1, horizon)?.reason).toBe('beyond_retention');
    expect(beyondRetention(horizon, horizon)).toBeNull();
    expect(beyondRetention(0, undefined)).toBeNull();
  });

  it('quarantines the reading in the pipeline, with the horizon the worker set in its settings', async () => {
    const settings = { maxFutureS: 300, maxAgeDays: 3650, maxImpliedSpeedKmh: 300, keptFromMs: undefined as number | undefined };
    const pipeline = createPipeline({
      lookupDevice: () => ({ vehicleId: 'v1', departmentId: 'd1', active: true, protocol: 'armada' }) as never,
      settings,
    });
    const message = (ts: string): RawMessage => ({
      topic: 'fleet/v1/devices/dev-1/telemetry',
      payload: Buffer.from(JSON.stringify({ ts, lat: -10.17, lon: 123.6 })),
      receivedAtMs: Date.parse('2026-12-01T00:00:00Z'),
    });
    expect((await pipeline([message('2026-01-20T00:00:00Z')])).readings).toHaveLength(1);
    settings.keptFromMs = horizon;
    const after = await pipeline([message('2026-01-21T00:00:00Z'), message('2026-03-01T00:00:00Z')]);
    expect(after.rejected.map((r) => r.reason)).toEqual(['beyond_retention']);
    expect(after.readings.map((r) => new Date(r.fixAtMs).toISOString())).toEqual(['2026-03-01T00:00:00.000Z']);
  });
});
