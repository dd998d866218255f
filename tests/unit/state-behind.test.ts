/**
 * The state written behind the readings (src/ingest/state-behind.ts) with a fake writer
 * and repository: a flush the database refuses keeps everything for the next one, the
 * newer reading of a vehicle winning; a batch with a duplicate makes the flush use the
 * stored rows' own figures; stop writes what is held.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BoundReading } from '../../src/domain/ingest-types.js';
import { stateBehind } from '../../src/ingest/state-behind.js';
import type { AppliedState, LatestRow } from '../../src/repositories/ingest-state.js';
import type { DeviceFigures, StoredBatch } from '../../src/repositories/telemetry.js';
import { deviceFigures } from '../../src/repositories/telemetry.js';
import { boundReading } from '../support/bound-reading.js';
import { silentLogger } from '../support/stores.js';

const r = (vehicleId: string, fixAtMs: number, seq: number | null = null): BoundReading =>
  boundReading({ vehicleId, deviceId: `dev-${vehicleId}`, departmentId: 'dep', fixAtMs, receivedAtMs: fixAtMs + 100, seq });

function rig(options: { duplicates?: boolean; flushMs?: number; flushTakesMs?: () => number } = {}) {
  let nextId = 1;
  const flushes: Array<{ ids: readonly string[]; latest: readonly LatestRow[]; figures: readonly DeviceFigures[] | null }> = [];
  let refuse = false;
  const unwritten: number[] = [];
  /** The flush's clock: a flush statement "takes" flushTakesMs() on it. */
  let clockMs = 0;
  const state = stateBehind(
    {
      async writeBatch(readings): Promise<StoredBatch> {
        const dup = options.duplicates === true;
        return {
          stored: dup ? readings.length - 1 : readings.length,
          duplicates: dup ? 1 : 0,
          quarantined: 0,
          unflushedId: String(nextId++),
          devices: dup ? null : deviceFigures(readings),
        };
      },
    },
    {
      repo: {
        async flush(ids, latest, figures): Promise<AppliedState> {
          clockMs += options.flushTakesMs?.() ?? 0;
          if (refuse) throw new Error('database away');
          flushes.push({ ids, latest, figures });
          return { rows: ids.length, seqMissingAdded: 0 };
        },
        recover: async () => ({ rows: 0, seqMissingAdded: 0 }),
      },
      loadNewest: async () => [['v1', 1_000] as const],
      logger: silentLogger,
      flushMs: options.flushMs ?? 3_600_000,
      leftBehindAfterS: 3_600,
      now: () => clockMs,
      onUnwritten: (n) => unwritten.push(n),
    },
  );
  return { state, flushes, unwritten, refuse: (yes: boolean) => (refuse = yes) };
}

describe('state behind', () => {
  it('announces only fixes newer than the newest known, the loaded ones included', async () => {
    const { state } = rig();
    await state.start();
    expect((await state.writeBatch([r('v1', 900), r('v2', 500)], [])).advanced.map((a) => a.vehicleId)).toEqual(['v2']);
    expect((await state.writeBatch([r('v1', 2_000), r('v1', 1_500)], [])).advanced.map((a) => a.reading.fixAtMs)).toEqual([2_000]);
    await state.stop();
  });

  it('keeps a refused flush for the next one, the newer reading winning and the figures summed', async () => {
    const { state, flushes, unwritten, refuse } = rig();
    await state.start();
    await state.writeBatch([r('v1', 2_000, 1), r('v2', 2_000, 7)], []);
    refuse(true);
    await expect(state.flush()).rejects.toThrow('database away');
    await state.writeBatch([r('v1', 3_000, 2), r('v2', 1_900, 6)], []);
    refuse(false);
    await state.flush();
    expect(flushes).toHaveLength(1);
    const [flush] = flushes;
    expect(flush!.ids).toEqual(['1', '2']);
    expect(Object.fromEntries(flush!.latest.map((l) => [l.vehicleId, l.fixAtMs]))).toEqual({ v1: 3_000, v2: 2_000 });
    expect(flush!.figures).toEqual(
      expect.arrayContaining([
        { deviceId: 'dev-v1', seenAtMs: 3_100, seqMin: 1, seqMax: 2, seqCount: 2 },
        { deviceId: 'dev-v2', seenAtMs: 2_100, seqMin: 6, seqMax: 7, seqCount: 2 },
      ]),
    );
    await state.flush();
    expect(flushes).toHaveLength(1);
    // What /metrics shows (armada_ingest_state_unwritten_batches): held through the refusal, then none.
    expect(unwritten).toEqual([1, 1, 2, 0]);
    await state.stop();
  });

  it('leaves the figures to the stored rows once a batch held a duplicate, and writes what it holds at stop', async () => {
    const { state, flushes } = rig({ duplicates: true });
    await state.start();
    await state.writeBatch([r('v3', 5_000, 1), r('v3', 5_000, 1)], []);
    await state.stop();
    expect(flushes).toEqual([{ ids: ['1'], latest: [expect.objectContaining({ vehicleId: 'v3', fixAtMs: 5_000 })], figures: null }]);
  });

  describe('spacing of the timed flushes', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    /** Writes a reading, then advances the fake timers by `ms`, and answers how many flushes ran. */
    async function after(rigged: ReturnType<typeof rig>, ms: number, fixAtMs: number): Promise<number> {
      await rigged.state.writeBatch([r('v9', fixAtMs)], []);
      await vi.advanceTimersByTimeAsync(ms);
      return rigged.flushes.length;
    }

    it('writes every interval while flushes are quick, and waits twenty times a slow one, up to ten intervals', async () => {
      vi.useFakeTimers();
      const takes = [5, 5, 100, 5000, 5];
      const rigged = rig({ flushMs: 1000, flushTakesMs: () => takes.shift() ?? 0 });
      await rigged.state.start();
      expect(await after(rigged, 1000, 10)).toBe(1); // took 5 ms: the next in 1,000
      expect(await after(rigged, 1000, 20)).toBe(2); // took 5 ms again
      expect(await after(rigged, 1000, 30)).toBe(3); // took 100 ms: the next waits 2,000
      expect(await after(rigged, 1999, 40)).toBe(3);
      expect(await after(rigged, 1, 50)).toBe(4); // took 5,000 ms: 100,000 is capped at 10,000
      expect(await after(rigged, 9999, 60)).toBe(4);
      expect(await after(rigged, 1, 70)).toBe(5); // took 5 ms: back to every 1,000
      expect(await after(rigged, 1000, 80)).toBe(6);
      await rigged.state.writeBatch([r('v9', 90)], []);
      await rigged.state.stop();
      // The last reading went out with stop(), and no timer is left to write again.
      await vi.advanceTimersByTimeAsync(60_000);
      expect(rigged.flushes).toHaveLength(7);
    });

    it('spaces out after a refused flush the same way, and the next one writes what it held', async () => {
      vi.useFakeTimers();
      const rigged = rig({ flushMs: 1000, flushTakesMs: () => 300 });
      await rigged.state.start();
      rigged.refuse(true);
      expect(await after(rigged, 1000, 10)).toBe(0);
      rigged.refuse(false);
      expect(await after(rigged, 5999, 20)).toBe(0);
      expect(await after(rigged, 1, 30)).toBe(1);
      expect(rigged.flushes[0]!.ids).toEqual(['1', '2', '3']);
      await rigged.state.stop();
    });
  });
});
