/**
 * Pins two seeded runs of the fleet simulator byte for byte: a digest of every message
 * published and every truth record, with the count of each kind of record beside it.
 *
 * Why pin the output: the accuracy tests (analytics, reconciliation, fraud) score Armada's
 * reports against the simulator's truth, so a change that moves the truth moves what they
 * measure. A refactoring of simulator/ must leave this test green; a deliberate change to
 * the model fails it, and its commit updates the digests below and says why.
 *
 * Why it is not brittle in a bad way: the simulator is pure (no clock, no Math.random,
 * no locale, no I/O): the same seed, options and code give the same bytes on any machine
 * and on any day. The runs use the batch's default chunking and no per-reading truth
 * (whose raw floating-point levels may differ in the last bit with the chunk size, while
 * everything published or recorded is rounded). What can move the digests besides a change
 * to simulator/ is a change in V8's Math functions; then the counts still show whether
 * anything of substance changed.
 *
 * The two runs: two working days of the demo fleet with events far more
 * frequent than the defaults (drains, fraud, private and out-of-city trips, coverage gaps,
 * bad fixes); and an always-on half day of 60 vehicles whose end falls inside a refuel and
 * a drain, so that the records of events cut by the run's end are pinned too.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { simulatePeriod } from '../../simulator/batch.js';
import { demoSimVehicle, demoVehicles } from '../../simulator/demo-fleet.js';
import { simulatedFleet } from '../../simulator/sim-fleet.js';
import type { TruthRecord } from '../../simulator/truth.js';

const DAY_MS = 86_400_000;
/** A few seconds each on an idle machine; room for a machine shared with other jobs (no speed is asserted). */
const RUN_TIMEOUT_MS = 300_000;
/** Monday 2 November 2026, 00:00 WITA. */
const MONDAY_MS = Date.parse('2026-11-02T00:00:00+08:00');

function fingerprint(run: { messages: unknown[]; truth: TruthRecord[] }) {
  const records: Record<string, number> = {};
  for (const r of run.truth) {
    const key = 'incomplete' in r && r.incomplete ? `${r.type} (incomplete)` : r.type;
    records[key] = (records[key] ?? 0) + 1;
  }
  const digest = (items: unknown[]) => {
    const hash = createHash('sha256');
    for (const item of items) hash.update(`${JSON.stringify(item)}\n`);
    return hash.digest('hex').slice(0, 16);
  };
  return { messages: run.messages.length, records, messagesDigest: digest(run.messages), truthDigest: digest(run.truth) };
}

describe('a seeded run of the simulator', () => {
  it(
    'is pinned: a realistic two days of the demo fleet, frequent events',
    () => {
      const run = simulatePeriod(
        {
          vehicles: demoVehicles.map((v) => demoSimVehicle(v)),
          seed: 21,
          startMs: MONDAY_MS,
          drainRatePerDay: 0.5,
          fraud: { inflated: 0.2, phantom: 0.3, elsewhere: 0.2 },
          afterHoursRatePerDay: 0.15,
          outOfCityRatePerDay: 0.2,
          offlineRatePerDay: 0.5,
          badFixRate: 0.01,
        },
        MONDAY_MS + 2 * DAY_MS,
      );
      expect(fingerprint(run)).toEqual({
        messages: 166341,
        records: {
          run: 1,
          trip: 1187,
          stop: 1187,
          'stop (incomplete)': 33,
          refuel: 29,
          receipt: 33,
          drain: 30,
          offline: 22,
          day: 66,
          vehicle: 33,
        },
        messagesDigest: '2fafea73dbf12970',
        truthDigest: 'e4a970b751643399',
      });
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'is pinned: an always-on half day of 60 vehicles, cut inside a refuel and a drain',
    () => {
      const startMs = MONDAY_MS + 5 * DAY_MS;
      const run = simulatePeriod(
        { vehicles: simulatedFleet(60, 'armada'), seed: 101, startMs, schedule: 'always', drainRatePerDay: 3 },
        startMs + DAY_MS / 2 + 977_000,
      );
      expect(fingerprint(run)).toEqual({
        messages: 130684,
        records: {
          run: 1,
          trip: 1397,
          'trip (incomplete)': 16,
          stop: 1381,
          'stop (incomplete)': 44,
          refuel: 37,
          'refuel (incomplete)': 1,
          receipt: 37,
          drain: 27,
          'drain (incomplete)': 1,
          offline: 7,
          day: 60,
          vehicle: 60,
        },
        messagesDigest: '0dd659211d34b06f',
        truthDigest: '0ca1bbf032b07dcb',
      });
    },
    RUN_TIMEOUT_MS,
  );
});
