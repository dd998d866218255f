/**
 * The rollup job shares its process with ingest (and on PGlite the database's thread):
 * it must not start before its settle delay, and a run must step aside for the event loop
 * between vehicles. Against an in-memory repository whose answers are immediate (as
 * PGlite's are to the event loop: no I/O in between), so only the job's own pauses let
 * anything else run.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startRollupJob, type RollupJobDeps } from '../../src/analytics/rollup-job.js';
import { DEFAULT_ANALYTICS_SETTINGS } from '../../src/analytics/settings.js';
import { useTestClock } from '../support/test-clock.js';

const startMs = useTestClock();

function fakeDeps(vehicleCount: number) {
  const vehicles = Array.from({ length: vehicleCount }, (_, i) => ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    tankCapacityLitres: 50,
    ratedLitresPer100Km: 9,
    idleLitresPerHour: 0.8,
  }));
  const calls = { runs: 0, saved: [] as string[] };
  const analyticsRepo = {
    async withJobLock<T>(_wait: boolean, fn: () => Promise<T>): Promise<T> {
      calls.runs++;
      return fn();
    },
    pendingLateDays: async () => [],
    // Every vehicle was heard from since its last computation, an hour ago.
    refreshCandidates: async () =>
      vehicles.map((v) => ({
        vehicleId: v.id,
        seenAtMs: startMs - 60_000,
        state: { computedAtMs: startMs - 3_600_000, seenAtMs: startMs - 3_700_000 },
      })),
    fixRange: async () => null,
    readings: async () => [],
    saveDays: async (vehicleId: string) => void calls.saved.push(vehicleId),
    setState: async () => undefined,
    clearLateDays: async () => undefined,
  };
  const deps = {
    analytics: { settings: DEFAULT_ANALYTICS_SETTINGS },
    analyticsRepo,
    vehicles: { list: async () => vehicles },
    logger: pino({ level: 'silent' }),
  } as unknown as RollupJobDeps;
  return { deps, calls };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the rollup job after a start', () => {
  it('makes its first timed run only once its settle delay has passed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { deps, calls } = fakeDeps(2);
    const job = startRollupJob({ ...deps, startDelayS: 30, intervalS: 60 });
    await vi.advanceTimersByTimeAsync(29_000);
    expect(calls.runs).toBe(0);
    await vi.advanceTimersByTimeAsync(1_000);
    // The run's own pauses are setImmediate, which is not faked: let them pass.
    await vi.waitFor(() => expect(calls.saved).toHaveLength(2));
    expect(calls.runs).toBe(1);
    await job.stop();
  });

  it('defaults the delay to the analytics settings (ROLLUP_START_DELAY_S)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { deps, calls } = fakeDeps(1);
    const job = startRollupJob(deps);
    await vi.advanceTimersByTimeAsync(DEFAULT_ANALYTICS_SETTINGS.rollupStartDelayS * 1000 - 1);
    expect(calls.runs).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    await vi.waitFor(() => expect(calls.runs).toBe(1));
    await job.stop();
  });

  it('lets the event loop run between one vehicle and the next, with the same results', async () => {
    const { deps, calls } = fakeDeps(5);
    const job = startRollupJob(deps, { autoStart: false });
    // A macrotask that looks at how far the run got, again and again while it runs.
    const seen: number[] = [];
    let done = false;
    const probe = () => {
      seen.push(calls.saved.length);
      if (!done) setImmediate(probe);
    };
    setImmediate(probe);
    const summary = await job.runOnce();
    done = true;
    expect(summary).toMatchObject({ vehicles: 5, failed: 0 });
    expect(new Set(calls.saved).size).toBe(5);
    // Seen before any vehicle, and between each two: the run never held the loop for two.
    for (let n = 0; n < 5; n++) expect(seen).toContain(n);
    await job.stop();
  });
});
