/** The per-device quarantine cap: what is stored, what is only counted, and when a period starts afresh. */
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.js';
import { createQuarantineCap } from '../../src/ingest/quarantine-limits.js';
import type { QuarantineEntry } from '../../src/domain/ingest-types.js';

const T0 = Date.parse('2026-11-28T02:00:00Z');
const HOUR = 3_600_000;

function reject(deviceId: string | null, atMs: number, n: number): QuarantineEntry {
  return {
    receivedAtMs: atMs,
    topic: deviceId ? `fleet/v1/devices/${deviceId}/telemetry` : 'elsewhere/x',
    deviceId,
    reason: 'invalid_field',
    detail: `bad ${n}`,
    payload: Buffer.from(`payload ${n}`),
  };
}

describe('the quarantine cap', () => {
  it("stores a device's first rejects up to the cap, then counts the rest on one row per period", async () => {
    const metrics = createMetrics();
    const admit = createQuarantineCap({ cap: 3, periodMs: HOUR }, metrics.ingest);
    const first = admit([1, 2, 3, 4, 5].map((n) => reject('a', T0 + n, n)));
    expect(first.slice(0, 3).map((e) => e.detail)).toEqual(['bad 1', 'bad 2', 'bad 3']);
    const counted = first.slice(3);
    expect(counted.map((e) => e.reason)).toEqual(['quarantine_cap', 'quarantine_cap']);
    // The same payload, so the writer and the database add them up on one row.
    expect(new Set(counted.map((e) => e.payload.toString())).size).toBe(1);
    expect(counted[1]!.detail).toContain('more than 3 rejects in 60 min from a since 2026-11-28T02:00:00.001Z');
    expect(counted[1]!.detail).toContain('the latest was invalid_field: bad 5');
    // Another device has a cap of its own; messages on no device's topic share one per topic.
    expect(admit([reject('b', T0 + 10, 6)]).map((e) => e.reason)).toEqual(['invalid_field']);
    expect(admit([1, 2, 3, 4].map((n) => reject(null, T0 + n, n))).map((e) => e.reason)).toEqual([
      'invalid_field',
      'invalid_field',
      'invalid_field',
      'quarantine_cap',
    ]);
    // Still within the hour: counted, on the same row as before.
    const later = admit([reject('a', T0 + HOUR - 1, 7)]);
    expect(later[0]!.reason).toBe('quarantine_cap');
    expect(later[0]!.payload.toString()).toBe(counted[0]!.payload.toString());
    // An hour after the period began, a new one: stored again.
    expect(admit([reject('a', T0 + 1 + HOUR, 8)]).map((e) => e.reason)).toEqual(['invalid_field']);
    const capped = await metrics.ingest.quarantineCapped.get();
    expect(capped.values.map((v) => [v.labels.reason, v.value])).toEqual([['invalid_field', 4]]);
  });

  it('a cap of 0 stores everything', () => {
    const admit = createQuarantineCap({ cap: 0, periodMs: HOUR });
    const all = Array.from({ length: 50 }, (_, n) => reject('a', T0 + n, n));
    expect(admit(all)).toEqual(all);
  });
});
