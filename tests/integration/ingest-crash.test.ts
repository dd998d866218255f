/**
 * The worker killed with SIGKILL every couple of seconds while 50 devices stream
 * 20,000 QoS 1 readings, and restarted each time: every reading the broker accepted
 * must end up stored exactly once. A negative control runs the same storm against an
 * ingest that acknowledges before it stores, and the checker must catch its losses.
 * Needs a real PostgreSQL (the worker is its own process) and the mosquitto binary.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BenchBroker, mosquittoAvailable } from '../../bench/mosquitto.js';
import { mulberry32 } from '../../simulator/random.js';
import { telemetryTopic } from '../../src/domain/topics.js';
import { scoreStream } from '../support/loss-checker.js';
import { seedStreamDevices } from '../support/seed-devices.js';
import { projectRoot } from '../support/process.js';
import { createTestDatabase, realPostgresConfigured, type TestDatabase } from '../support/stores.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Storm {
  devices: number;
  readingsPerDevice: number;
  /** Pause between rounds of one reading per device. */
  roundEveryMs: number;
  killEveryMs: [number, number];
  /** The process under test: started again after every kill. */
  start: () => ChildProcess;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** Resolves when the process says it is subscribed; rejects if it exits first. */
const whenReady = (c: ChildProcess) =>
  new Promise<void>((resolve, reject) => {
    let out = '';
    c.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/session ready|^ready$/m.test(out)) resolve();
    });
    c.once('exit', (code, signal) => reject(new Error(`the process under test exited (${code ?? signal}) before it was ready:\n${out}`)));
  });

/** Streams, kills and restarts; answers the score once the stored count stops moving. */
async function runStorm(testDb: TestDatabase, brokerUrl: string, deviceIds: string[], storm: Storm) {
  const rng = mulberry32(7);
  const clients: MqttClient[] = await Promise.all(
    deviceIds.map((id) => mqtt.connectAsync(brokerUrl, { clientId: `pub-${id}`, username: id, protocolVersion: 4, reconnectPeriod: 100 })),
  );
  const published: string[] = [];
  const acks: Array<Promise<unknown>> = [];
  const baseMs = Date.now() - 6 * 3_600_000;
  let child = storm.start();
  // Until its first subscription, the broker holds nothing for the worker's session:
  // the stream starts once the first process says it is subscribed.
  await whenReady(child);
  let ready: Promise<void> = Promise.resolve();
  let kills = 0;
  let streaming = true;

  const chaos = (async () => {
    while (streaming) {
      const [lo, hi] = storm.killEveryMs;
      await sleep(lo + rng() * (hi - lo));
      if (!streaming) break;
      await kill(child);
      kills++;
      child = storm.start();
      ready = whenReady(child);
      // A process killed before it was ready is simply replaced: only the last one must get there.
      ready.catch(() => undefined);
    }
  })();

  for (let seq = 1; seq <= storm.readingsPerDevice; seq++) {
    deviceIds.forEach((id, i) => {
      const reading = { ts: new Date(baseMs + seq * 1000).toISOString(), lat: -10.17 - i * 1e-4, lon: 123.6 + seq * 1e-5, seq };
      acks.push(
        clients[i]!.publishAsync(telemetryTopic(id), JSON.stringify(reading), { qos: 1 }).then(() => published.push(`${id}:${seq}`)),
      );
    });
    await sleep(storm.roundEveryMs);
  }
  await Promise.all(acks);
  // Two more kills after the stream, while the backlog drains.
  await sleep(1500);
  streaming = false;
  await chaos;

  const storedKeys = async () =>
    (await testDb.database.query<{ k: string }>(`SELECT device_id || ':' || seq AS k FROM telemetry`)).map((r) => r.k);
  // The last process must be up before "nothing moves" can mean "nothing more will come":
  // on a busy machine starting one takes seconds. Then: everything is there, or nothing
  // has moved for five seconds (what is missing then is lost).
  await ready;
  let last = -1;
  for (let stable = 0, waited = 0; stable < 5 && waited < 90_000; waited += 1000) {
    await sleep(1000);
    const n = (await storedKeys()).length;
    if (n >= published.length) break;
    stable = n === last ? stable + 1 : 0;
    last = n;
  }
  await kill(child);
  await Promise.all(clients.map((c) => c.endAsync()));
  return { kills, ...scoreStream(published, await storedKeys()) };
}

describe.skipIf(!realPostgresConfigured() || !mosquittoAvailable())('ingest under SIGKILL', () => {
  let broker: BenchBroker;
  const dbs: TestDatabase[] = [];

  beforeAll(async () => {
    broker = await BenchBroker.start({ maxInflightMessages: 1000, maxQueuedMessages: 1_000_000, source: 'test' });
  });

  afterAll(async () => {
    await broker?.stop();
    for (const db of dbs) await db.drop();
  });

  it('loses nothing, duplicates nothing, invents nothing', async () => {
    const testDb = await createTestDatabase();
    dbs.push(testDb);
    const deviceIds = await seedStreamDevices(testDb, 50, 'crash');
    const env = { PATH: process.env.PATH ?? '', DATABASE_URL: testDb.url!, MQTT_URL: broker.url, WORKER_ID: 'crash', LOG_LEVEL: 'info' };
    const report = await runStorm(testDb, broker.url, deviceIds, {
      devices: 50,
      readingsPerDevice: 400,
      roundEveryMs: 20,
      killEveryMs: [1500, 3000],
      start: () =>
        spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'worker'], {
          cwd: projectRoot,
          env,
          stdio: ['ignore', 'pipe', 'ignore'],
        }),
    });
    console.info('crash storm:', JSON.stringify(report));
    expect(report.kills).toBeGreaterThanOrEqual(3);
    expect(report.published).toBe(20_000);
    expect({ lost: report.lost, duplicated: report.duplicated, unexpected: report.unexpected, sample: report.lostSample }).toEqual({
      lost: 0,
      duplicated: 0,
      unexpected: 0,
      sample: [],
    });

    // The latest state is written behind the readings, and every kill left some unwritten.
    // One more start adds what the killed workers left; a graceful stop writes the rest.
    // Then every device counted each of its 400 readings once, and every vehicle's
    // latest position is its newest stored reading.
    const last = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'worker'], {
      cwd: projectRoot,
      env,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    await whenReady(last);
    const exited = new Promise((r) => last.once('exit', r));
    last.kill('SIGTERM');
    await exited;
    const state = await testDb.database.query<{
      id: string;
      seq_first: number;
      seq_max: number;
      seq_received: number;
      latest_is_newest: boolean;
    }>(
      `SELECT d.id, d.seq_first::int, d.seq_max::int, d.seq_received::int, coalesce(l.fix_at = t.newest, false) AS latest_is_newest
         FROM devices d
         LEFT JOIN vehicle_latest l ON l.vehicle_id = d.vehicle_id
         LEFT JOIN (SELECT vehicle_id, max(fix_at) AS newest FROM telemetry GROUP BY vehicle_id) t ON t.vehicle_id = d.vehicle_id
        WHERE d.id = ANY($1)`,
      [deviceIds],
    );
    const wrong = state.filter((d) => d.seq_first !== 1 || d.seq_max !== 400 || d.seq_received !== 400 || !d.latest_is_newest);
    expect({ devices: state.length, wrong: wrong.slice(0, 3) }).toEqual({ devices: 50, wrong: [] });
    expect(await testDb.database.query('SELECT 1 FROM ingest_unflushed')).toEqual([]);
  }, 240_000);

  it('catches the losses of an ingest that acknowledges before it stores (negative control)', async () => {
    const testDb = await createTestDatabase();
    dbs.push(testDb);
    const deviceIds = await seedStreamDevices(testDb, 20, 'crash');
    const env = { PATH: process.env.PATH ?? '', DATABASE_URL: testDb.url!, MQTT_URL: broker.url };
    const report = await runStorm(testDb, broker.url, deviceIds, {
      devices: 20,
      readingsPerDevice: 200,
      roundEveryMs: 10,
      killEveryMs: [700, 1200],
      start: () =>
        spawn(process.execPath, ['--import', 'tsx', 'tests/support/naive-ingest.ts'], {
          cwd: projectRoot,
          env,
          stdio: ['ignore', 'pipe', 'ignore'],
        }),
    });
    console.info('negative control:', JSON.stringify(report));
    expect(report.kills).toBeGreaterThanOrEqual(2);
    expect(report.lost).toBeGreaterThan(0);
  }, 240_000);
});
