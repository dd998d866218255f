/**
 * A fixed clock for the tests whose results depend on the calendar (weekdays, working
 * hours, report days in Asia/Makassar): they run at a known instant, not at whatever day
 * and hour the suite happens to run.
 *
 * `useTestClock()` moves this test process's clock to ARMADA_TEST_NOW, or to
 * DEFAULT_TEST_NOW without it, and lets it run on from there: `Date.now()` and `new Date()`
 * in the test and in the services it starts in-process (startTestService) read the moved
 * clock, timers and `performance.now()` are untouched. PostgreSQL's `now()` and child
 * processes keep the real time, so a file that uses the clock must not compare against them.
 *
 * `npm run test:dates` runs every test file that calls `useTestClock()` at several instants
 * (.ci/test-dates): a Sunday, a Monday before work, a month end, a year end, just
 * before and just after midnight in Asia/Makassar.
 */
import { afterAll } from 'vitest';

/** A Wednesday, 10:00 in Asia/Makassar: an ordinary working morning. */
export const DEFAULT_TEST_NOW = '2026-03-11T10:00:00+08:00';

const RealDate = Date;
const SHIFTED = Symbol.for('armada.testClock');

/** The instant the clock starts at: ARMADA_TEST_NOW (ISO 8601 with a zone) or the default. */
export function testClockStartMs(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.ARMADA_TEST_NOW?.trim() || DEFAULT_TEST_NOW;
  const ms = RealDate.parse(text);
  if (!/(Z|[+-]\d\d:\d\d)$/.test(text) || Number.isNaN(ms)) {
    throw new Error(`ARMADA_TEST_NOW must be an ISO 8601 time with a zone, got "${text}"`);
  }
  return ms;
}

/** Moves `Date` in this process to start at `startMs` and run on at the real pace; answers how to undo it. */
export function shiftClock(startMs: number): () => void {
  const previous = globalThis.Date;
  if ((previous as unknown as Record<symbol, unknown>)[SHIFTED]) throw new Error('the test clock is already shifted');
  const offsetMs = startMs - RealDate.now();
  class ShiftedDate extends RealDate {
    static readonly [SHIFTED] = true;
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + offsetMs);
      else super(...(args as [string | number | Date]));
    }
    static override now(): number {
      return RealDate.now() + offsetMs;
    }
  }
  // `Date()` called without `new` answers a string of the current time; keep that too.
  const Shifted = new Proxy(ShiftedDate, {
    apply: () => new ShiftedDate().toString(),
  }) as unknown as DateConstructor;
  globalThis.Date = Shifted;
  return () => {
    globalThis.Date = previous;
  };
}

/**
 * Runs this test file on the test clock (call it at the top of the file, before anything
 * reads the time). Answers the instant it started at.
 */
export function useTestClock(): number {
  const startMs = testClockStartMs();
  const restore = shiftClock(startMs);
  afterAll(restore);
  return startMs;
}
