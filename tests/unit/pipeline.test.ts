/**
 * The jump filter's memory: it starts from the committed latest fixes, and after a
 * failed commit it is read again, so a redelivered GPS jump is judged as it was the
 * first time. Also: the worker tells the pipeline when a commit fails.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { DeviceIdentity } from '../../src/domain/ingest-types.js';
import type { Fix } from '../../src/ingest/jump-memory.js';
import { createPipeline, type RawMessage } from '../../src/ingest/pipeline.js';
import { createIngestWorker } from '../../src/ingest/worker.js';

const device: DeviceIdentity = { id: 'dev-1', vehicleId: 'veh-1', departmentId: 'dep-1', protocol: 'armada', secretHash: '', active: true };
const settings = { maxFutureS: 300, maxAgeDays: 400, maxImpliedSpeedKmh: 250 };
const T0 = Date.parse('2026-11-28T02:00:00Z');
/** Kupang, and ~110 km away: a jump when seconds apart. */
const NEAR = { lat: -10.17, lon: 123.6 };
const FAR = { lat: -9.17, lon: 123.6 };

function message(seconds: number, at: { lat: number; lon: number }): RawMessage {
  return {
    topic: 'fleet/v1/devices/dev-1/telemetry',
    payload: Buffer.from(JSON.stringify({ ts: new Date(T0 + seconds * 1000).toISOString(), ...at })),
    receivedAtMs: T0 + 3_600_000,
  };
}

const outcome = (r: Awaited<ReturnType<ReturnType<typeof createPipeline>>>) => ({
  stored: r.readings.map((x) => (x.fixAtMs - T0) / 1000),
  rejected: r.rejected.map((x) => x.reason),
});

describe('the jump filter memory', () => {
  it('starts from the committed latest fix: a jump right after a restart is caught', async () => {
    const committed: Array<readonly [string, Fix]> = [['veh-1', { fixAtMs: T0, ...NEAR }]];
    const seeded = createPipeline({ lookupDevice: () => device, settings, loadNewestFixes: async () => committed });
    expect(outcome(await seeded([message(10, FAR)]))).toEqual({ stored: [], rejected: ['implausible_jump'] });
    // Without the committed fix, the first reading has nothing to be judged against.
    const blank = createPipeline({ lookupDevice: () => device, settings });
    expect(outcome(await blank([message(10, FAR)]))).toEqual({ stored: [10], rejected: [] });
  });

  it('after forget(), a redelivered batch is judged against the committed fixes again', async () => {
    const committed: Array<readonly [string, Fix]> = [['veh-1', { fixAtMs: T0, ...NEAR }]];
    let loads = 0;
    const pipeline = createPipeline({ lookupDevice: () => device, settings, loadNewestFixes: async () => (loads++, committed) });
    const batch = [message(10, NEAR), message(20, FAR), message(30, NEAR)];
    expect(outcome(await pipeline(batch))).toEqual({ stored: [10, 30], rejected: ['implausible_jump'] });
    // The commit failed: the broker redelivers the same batch.
    pipeline.forget();
    expect(outcome(await pipeline(batch))).toEqual({ stored: [10, 30], rejected: ['implausible_jump'] });
    expect(loads).toBe(2);
  });

  it('a redelivered jump is rejected again even without forget(): its rejection is remembered', async () => {
    // Without that memory, the jump (20 s) would be older than the remembered fix at 30 s,
    // and older readings are not judged: the fresh pipeline below, seeded the same way.
    const seed = async (): Promise<Array<readonly [string, Fix]>> => [['veh-1', { fixAtMs: T0 + 30_000, ...NEAR }]];
    const pipeline = createPipeline({
      lookupDevice: () => device,
      settings,
      loadNewestFixes: async () => [['veh-1', { fixAtMs: T0, ...NEAR }]],
    });
    const batch = [message(10, NEAR), message(20, FAR), message(30, NEAR)];
    await pipeline(batch);
    expect(outcome(await pipeline(batch))).toEqual({ stored: [10, 30], rejected: ['implausible_jump'] });
    expect(outcome(await createPipeline({ lookupDevice: () => device, settings, loadNewestFixes: seed })([message(20, FAR)]))).toEqual({
      stored: [20],
      rejected: [],
    });
  });

  it('a jump redelivered after a newer fix was committed meanwhile (overlapping commits) is rejected again', async () => {
    // Batch A holds the jump; batch B, judged after it, a normal newer fix. A fails, B commits.
    let committed: Array<readonly [string, Fix]> = [['veh-1', { fixAtMs: T0, ...NEAR }]];
    const pipeline = createPipeline({ lookupDevice: () => device, settings, loadNewestFixes: async () => committed });
    const batchA = [message(20, FAR)];
    expect(outcome(await pipeline(batchA))).toEqual({ stored: [], rejected: ['implausible_jump'] });
    expect(outcome(await pipeline([message(30, NEAR)]))).toEqual({ stored: [30], rejected: [] });
    committed = [['veh-1', { fixAtMs: T0 + 30_000, ...NEAR }]];
    pipeline.forget();
    // A comes back: older than the committed newest fix, it would not be judged at all.
    expect(outcome(await pipeline(batchA))).toEqual({ stored: [], rejected: ['implausible_jump'] });
    // The same fix from a fresh pipeline (what the memory of rejections prevents).
    const fresh = createPipeline({ lookupDevice: () => device, settings, loadNewestFixes: async () => committed });
    expect(outcome(await fresh(batchA))).toEqual({ stored: [20], rejected: [] });
  });

  it('a load that fails fails the batch (it is redelivered) instead of judging without memory', async () => {
    let fail = true;
    const pipeline = createPipeline({
      lookupDevice: () => device,
      settings,
      loadNewestFixes: async () => {
        if (fail) throw new Error('database down');
        return [['veh-1', { fixAtMs: T0, ...NEAR }]];
      },
    });
    await expect(pipeline([message(10, FAR)])).rejects.toThrow('database down');
    fail = false;
    expect(outcome(await pipeline([message(10, FAR)]))).toEqual({ stored: [], rejected: ['implausible_jump'] });
  });

  it('the worker calls forget() when a commit fails, and not when it succeeds', async () => {
    const calls: string[] = [];
    const pipeline = Object.assign(
      async (messages: readonly RawMessage[]) => (calls.push(`run ${messages.length}`), { readings: [], rejected: [] }),
      {
        forget: () => calls.push('forget'),
      },
    );
    let failNext = true;
    const worker = createIngestWorker({
      source: {
        committed: () => calls.push('committed'),
        failed: () => calls.push('failed'),
        pause: () => undefined,
        resume: () => undefined,
      },
      live: { publish: () => undefined },
      pipeline,
      writer: {
        writeBatch: async () => {
          if (failNext) {
            failNext = false;
            throw new Error('commit failed');
          }
          return { stored: 0, duplicates: 0, quarantined: 0, advanced: [], unflushedId: null, devices: [] };
        },
      },
      logger: pino({ level: 'silent' }),
      batchSize: 1,
      batchWaitMs: 1,
    });
    worker.accept(message(10, NEAR));
    await worker.idle();
    worker.accept(message(20, NEAR));
    await worker.idle();
    expect(calls).toEqual(['run 1', 'forget', 'failed', 'run 1', 'committed']);
  });
});

/**
 * A write that fails because of one message's data (PostgreSQL 22P05: U+0000 in text) must
 * not stop the others: the batch is written message by message, the culprit retried alone
 * and quarantined as `poison`. A database that is away acknowledges nothing.
 */
describe('the worker and a poison message', () => {
  const pgError = (code: string, text: string) => Object.assign(new Error(text), { code });
  const secondsOf = (m: RawMessage) => (Date.parse(JSON.parse(m.payload.toString()).ts) - T0) / 1000;
  /** A worker whose writer throws `fail(readings)` for a write holding those readings (seconds after T0), if it returns one. */
  function rig(options: {
    fail: (readings: number[]) => Error | undefined;
    databaseAnswers?: () => boolean;
    poisonAttempts?: number;
    batchSize?: number;
  }) {
    const writes: number[][] = [];
    const quarantined: Array<{ reason: string; detail: string; topic: string; deviceId: string | null }> = [];
    const acknowledged: number[] = [];
    const handedBack: number[] = [];
    const worker = createIngestWorker({
      source: {
        committed: (ms) => acknowledged.push(...ms.map(secondsOf)),
        failed: (ms) => handedBack.push(...ms.map(secondsOf)),
        pause: () => undefined,
        resume: () => undefined,
      },
      live: { publish: () => undefined },
      pipeline: createPipeline({ lookupDevice: () => device, settings }),
      writer: {
        writeBatch: async (readings, rejected) => {
          const seconds = readings.map((r) => (r.fixAtMs - T0) / 1000);
          writes.push(seconds);
          const err = options.fail(seconds);
          if (err) throw err;
          quarantined.push(...rejected.map((q) => ({ reason: q.reason, detail: q.detail, topic: q.topic, deviceId: q.deviceId })));
          return { stored: readings.length, duplicates: 0, quarantined: rejected.length, advanced: [], unflushedId: null, devices: [] };
        },
      },
      logger: pino({ level: 'silent' }),
      batchSize: options.batchSize ?? 3,
      batchWaitMs: 1,
      ...(options.poisonAttempts ? { poisonAttempts: options.poisonAttempts } : {}),
      ...(options.databaseAnswers ? { databaseAnswers: async () => options.databaseAnswers!() } : {}),
    });
    const send = async (...seconds: number[]) => {
      seconds.forEach((s) => worker.accept(message(s, NEAR)));
      await worker.idle();
    };
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    return { worker, writes, quarantined, send, acknowledged: () => sorted(acknowledged), handedBack: () => sorted(handedBack) };
  }
  /** The reading at 20 s is the poison. */
  const poisonAt20 = (error: () => Error) => (readings: number[]) => (readings.includes(20) ? error() : undefined);

  it('commits the rest of the batch, retries the culprit alone, then quarantines it as poison and acknowledges it', async () => {
    const r = rig({ fail: poisonAt20(() => pgError('22P05', 'unsupported Unicode escape sequence')) });
    await r.send(10, 20, 30);
    expect(r.acknowledged()).toEqual([10, 20, 30]);
    expect(r.handedBack()).toEqual([]);
    // The batch, then each alone (20 three times), then 20's quarantine row.
    expect(r.writes).toEqual([[10, 20, 30], [10], [20], [20], [20], [], [30]]);
    expect(r.quarantined).toEqual([
      {
        reason: 'poison',
        detail: 'writing this message alone failed 3 times: 22P05 unsupported Unicode escape sequence',
        topic: 'fleet/v1/devices/dev-1/telemetry',
        deviceId: 'dev-1',
      },
    ]);
    expect(r.worker.counters).toMatchObject({ stored: 2, poisoned: 1, quarantined: 1, failedBatches: 0 });
  });

  it('takes the number of attempts from its setting', async () => {
    const r = rig({ fail: poisonAt20(() => pgError('22021', 'invalid byte sequence')), poisonAttempts: 5, batchSize: 1 });
    await r.send(20);
    expect(r.writes.filter((w) => w.includes(20))).toHaveLength(1 + 5);
    expect(r.worker.counters.poisoned).toBe(1);
  });

  it('an error without a SQLSTATE is blamed on the data only while the database answers', async () => {
    const answering = rig({ fail: poisonAt20(() => new RangeError('Invalid string length')), databaseAnswers: () => true });
    await answering.send(10, 20, 30);
    expect(answering.acknowledged()).toEqual([10, 20, 30]);
    expect(answering.worker.counters.poisoned).toBe(1);

    const away = rig({ fail: () => new Error('connect ECONNREFUSED 127.0.0.1:5432'), databaseAnswers: () => false });
    await away.send(10, 20, 30);
    expect(away.acknowledged()).toEqual([]);
    expect(away.handedBack()).toEqual([10, 20, 30]);
    expect(away.writes).toHaveLength(1);
    expect(away.worker.counters).toMatchObject({ poisoned: 0, failedBatches: 1 });
  });

  const outageCodes = ['57P01', '53100', '08006', '40P01', '25006'];
  it.each(outageCodes)('SQLSTATE %s (not the data) acknowledges nothing, even while the database answers', async (code) => {
    const r = rig({ fail: () => pgError(code, 'not the data'), databaseAnswers: () => true });
    await r.send(10, 20, 30);
    expect(r.acknowledged()).toEqual([]);
    expect(r.handedBack()).toEqual([10, 20, 30]);
    expect(r.writes).toHaveLength(1);
    expect(r.quarantined).toEqual([]);
  });

  it('the database going away while messages are written one by one: what committed is acknowledged, the rest handed back', async () => {
    let up = true;
    const r = rig({
      fail: (readings) => {
        if (!up) return new Error('Connection terminated unexpectedly');
        if (readings.includes(20)) {
          // The poison's first lone attempt takes the database down with it.
          if (readings.length === 1) up = false;
          return pgError('22P05', 'unsupported Unicode escape sequence');
        }
        return undefined;
      },
      databaseAnswers: () => up,
    });
    await r.send(10, 20, 30);
    expect(r.acknowledged()).toEqual([10]);
    expect(r.handedBack()).toEqual([20, 30]);
    expect(r.quarantined).toEqual([]);
    expect(r.worker.counters).toMatchObject({ poisoned: 0, failedBatches: 1 });
  });
});
