/**
 * Two ingest workers share the devices (WORKER_COUNT=2, docs/scale-out.md), each with
 * its own persistent session on one Mosquitto subscribed to the exact topics of the
 * devices it owns. One of them is SIGKILLed and restarted again and again while 20
 * devices (Armada and OwnTracks, one registered while the workers already run) stream
 * QoS 1 readings: every reading the broker accepted must be stored exactly once.
 * Needs a real PostgreSQL (the workers are their own processes) and the mosquitto binary.
 */
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BenchBroker, mosquittoAvailable } from '../../bench/mosquitto.js';
import { mulberry32 } from '../../simulator/random.js';
import { ownTracksTopic, telemetryTopic } from '../../src/domain/topics.js';
import { deviceTopic, ownerOf } from '../../src/ingest/partition.js';
import { createRepositories, type Repositories } from '../../src/repositories/index.js';
import { hashDeviceSecret } from '../../src/security/secrets.js';
import { scoreStream } from '../support/loss-checker.js';
import { projectRoot } from '../support/process.js';
import { createTestDatabase, realPostgresConfigured, type TestDatabase } from '../support/stores.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Device {
  id: string;
  protocol: 'armada' | 'owntracks';
}

class Worker {
  child!: ChildProcess;
  log = '';
  starts = 0;

  constructor(
    readonly index: number,
    private readonly env: Record<string, string>,
  ) {}

  /** Starts the process; resolves once its session is subscribed. */
  async start(): Promise<void> {
    this.starts++;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'worker'], {
      cwd: projectRoot,
      env: { ...this.env, WORKER_INDEX: String(this.index), WORKER_ID: `scale-${this.index}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        this.log += d.toString();
        if (/mqtt session ready/.test(out)) resolve();
      });
      child.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
      child.once('exit', (code) => reject(new Error(`worker ${this.index} exited (${code}) before it was ready:\n${out}`)));
    });
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** The `owned` figure of each start's partition line. */
  ownedAtStart(): number[] {
    return [...this.log.matchAll(/"owned":(\d+)[^\n]*ingest partition/g)].map((m) => Number(m[1]));
  }
}

async function register(repos: Repositories, departmentId: string, device: Device, n: number): Promise<void> {
  const v = await repos.vehicles.create({
    plateNumber: `DH S${n}`,
    departmentId,
    kind: 'car',
    fuelType: 'pertalite',
    tankCapacityLitres: 50,
    ratedLitresPer100Km: 9,
    idleLitresPerHour: 0.8,
    monthlyAllocationLitres: 200,
  });
  await repos.devices.create({ id: device.id, vehicleId: v.id, protocol: device.protocol, secretHash: hashDeviceSecret('unused') });
}

describe.skipIf(!realPostgresConfigured() || !mosquittoAvailable())('two ingest workers, one SIGKILLed again and again', () => {
  let broker: BenchBroker;
  let testDb: TestDatabase;
  const workers: Worker[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    broker = await BenchBroker.start({ maxInflightMessages: 1000, maxQueuedMessages: 1_000_000, source: 'test' });
    testDb = await createTestDatabase();
  });

  afterAll(async () => {
    for (const w of workers) await w.kill().catch(() => undefined);
    await Promise.all(clients.map((c) => c.endAsync().catch(() => undefined)));
    await broker?.stop();
    await testDb?.drop();
  });

  it('loses nothing, duplicates nothing, invents nothing; each worker stores its own devices', async () => {
    const repos = createRepositories(testDb.database);
    const dep = await repos.departments.create({ code: `S${randomBytes(2).toString('hex')}`, name: 'Scale' });
    const devices: Device[] = Array.from({ length: 20 }, (_, i) =>
      i % 8 === 3 ? { id: `scale${i}/phone`, protocol: 'owntracks' as const } : { id: `scale-${i}`, protocol: 'armada' as const },
    );
    const late = devices[19]!;
    for (const [i, d] of devices.slice(0, 19).entries()) await register(repos, dep.id, d, i);

    const env = {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: testDb.url!,
      MQTT_URL: broker.url,
      WORKER_COUNT: '2',
      DEVICE_REFRESH_MS: '300',
      LOG_LEVEL: 'info',
    };
    workers.push(new Worker(0, env), new Worker(1, env));
    await Promise.all(workers.map((w) => w.start()));
    // Each worker subscribed to its own share of the 19 devices known at start.
    const expectedShare = [0, 1].map((w) => devices.slice(0, 19).filter((d) => ownerOf(d.id, 2) === w).length);
    expect(workers.map((w) => w.ownedAtStart()[0])).toEqual(expectedShare);
    expect(Math.min(...expectedShare)).toBeGreaterThan(0);

    // A device registered now: its owner subscribes to it at its next refresh.
    await register(repos, dep.id, late, 19);
    const lateOwner = workers[ownerOf(late.id, 2)]!;
    const deadline = Date.now() + 10_000;
    while (!lateOwner.log.includes(deviceTopic(late))) {
      if (Date.now() > deadline) throw new Error(`worker ${lateOwner.index} did not subscribe to ${late.id}:\n${lateOwner.log}`);
      await sleep(50);
    }

    clients.push(
      ...(await Promise.all(
        devices.map((d) =>
          mqtt.connectAsync(broker.url, {
            clientId: `pub-${d.id.replace('/', '-')}`,
            username: d.id,
            protocolVersion: 4,
            reconnectPeriod: 100,
          }),
        ),
      )),
    );
    const published: string[] = [];
    const acks: Array<Promise<unknown>> = [];
    const baseS = Math.floor(Date.now() / 1000) - 6 * 3600;
    const readingsPerDevice = 300;

    // The victim alternates between the workers, so both lose their process at least once.
    const rng = mulberry32(11);
    let streaming = true;
    let kills = 0;
    // Kills go on until the stream is over and there have been at least four (the later
    // ones hit the workers while they drain what queued up for them).
    const chaos = (async () => {
      while (streaming || kills < 4) {
        await sleep(500 + rng() * 500);
        const victim = workers[kills % 2]!;
        await victim.kill();
        kills++;
        await sleep(200 + rng() * 400);
        await victim.start();
      }
    })();

    for (let seq = 1; seq <= readingsPerDevice; seq++) {
      devices.forEach((d, i) => {
        const tsS = baseS + seq;
        const [topic, payload] =
          d.protocol === 'owntracks'
            ? [ownTracksTopic(d.id), { _type: 'location', tst: tsS, lat: -10.15 - i * 1e-4, lon: 123.6 + seq * 1e-5, vel: 20 }]
            : [telemetryTopic(d.id), { ts: new Date(tsS * 1000).toISOString(), lat: -10.17 - i * 1e-4, lon: 123.6 + seq * 1e-5, seq }];
        acks.push(clients[i]!.publishAsync(topic, JSON.stringify(payload), { qos: 1 }).then(() => published.push(`${d.id}:${tsS}`)));
      });
      await sleep(25);
    }
    await Promise.all(acks);
    streaming = false;
    await chaos;
    // Whatever the chaos left down is back up: its session hands over what it kept.
    for (const w of workers) if (w.child.exitCode !== null || w.child.signalCode !== null) await w.start();

    const storedKeys = async () =>
      (await testDb.database.query<{ k: string }>(`SELECT device_id || ':' || extract(epoch FROM fix_at)::bigint AS k FROM telemetry`)).map(
        (r) => r.k,
      );
    // Wait until everything is in and the count has held for a second, or nothing moved for 3 s.
    for (let last = -1, still = 0; still < (last >= published.length ? 2 : 6); ) {
      await sleep(500);
      const n = (await storedKeys()).length;
      still = n === last ? still + 1 : 0;
      last = n;
    }
    const report = { kills, starts: workers.map((w) => w.starts), ...scoreStream(published, await storedKeys()) };
    console.info('scale-out storm:', JSON.stringify(report));

    expect(report.kills).toBeGreaterThanOrEqual(4);
    expect(report.published).toBe(devices.length * readingsPerDevice);
    expect({ lost: report.lost, duplicated: report.duplicated, unexpected: report.unexpected, sample: report.lostSample }).toEqual({
      lost: 0,
      duplicated: 0,
      unexpected: 0,
      sample: [],
    });
    // Every device, including the one registered late, has all its readings.
    const perDevice = await testDb.database.query<{ device_id: string; n: string }>(
      'SELECT device_id, count(*) AS n FROM telemetry GROUP BY device_id',
    );
    expect(Object.fromEntries(perDevice.map((r) => [r.device_id, Number(r.n)]))).toEqual(
      Object.fromEntries(devices.map((d) => [d.id, readingsPerDevice])),
    );
  }, 60_000);

  it('loses what a new device sends before its owner subscribed (the documented window), and nothing after', async () => {
    const repos = createRepositories(testDb.database);
    const dep = await repos.departments.create({ code: `W${randomBytes(2).toString('hex')}`, name: 'Window' });
    let k = 0;
    while (ownerOf(`window-${k}`, 2) !== 1) k++;
    const device: Device = { id: `window-${k}`, protocol: 'armada' };
    const owner = workers[1]!;
    await owner.kill();
    await register(repos, dep.id, device, 100);
    const client = await mqtt.connectAsync(broker.url, { clientId: `pub-${device.id}`, username: device.id, protocolVersion: 4 });
    clients.push(client);
    const baseMs = Date.now() - 3_600_000;
    const send = (seq: number) =>
      client.publishAsync(
        telemetryTopic(device.id),
        JSON.stringify({ ts: new Date(baseMs + seq * 1000).toISOString(), lat: -10.2, lon: 123.6, seq }),
        { qos: 1 },
      );
    // The broker acknowledges these, but no session subscribes to the topic yet: dropped.
    for (let seq = 1; seq <= 10; seq++) await send(seq);
    await owner.start(); // reads the devices table at start and subscribes to the new topic
    for (let seq = 11; seq <= 20; seq++) await send(seq);
    const seqs = async () =>
      (await testDb.database.query<{ seq: number }>('SELECT seq FROM telemetry WHERE device_id = $1 ORDER BY seq', [device.id])).map((r) =>
        Number(r.seq),
      );
    const deadline = Date.now() + 10_000;
    while ((await seqs()).length < 10 && Date.now() < deadline) await sleep(100);
    await sleep(500);
    expect(await seqs()).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
  }, 30_000);
});
