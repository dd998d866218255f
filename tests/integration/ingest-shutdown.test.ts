/**
 * SIGTERM in the middle of a stream: the worker commits and acknowledges the batches it
 * holds, leaves what arrives afterwards unacknowledged in its broker session, and
 * disconnects. The next worker on the same session must then receive nothing the first
 * one already stored (no redelivered duplicates), and together they store every reading
 * exactly once. A separate process (the real command line and its signal handling),
 * real PostgreSQL and a private Mosquitto.
 *
 * Also: a worker-only process serves /metrics on METRICS_PORT, with the ingest counters.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BenchBroker, mosquittoAvailable } from '../../bench/mosquitto.js';
import { telemetryTopic } from '../../src/domain/topics.js';
import { scoreStream } from '../support/loss-checker.js';
import { seedStreamDevices } from '../support/seed-devices.js';
import { freePort, projectRoot } from '../support/process.js';
import { createTestDatabase, realPostgresConfigured, type TestDatabase } from '../support/stores.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Worker {
  child: ChildProcess;
  output(): string;
  ready: Promise<void>;
  exited: Promise<number | string>;
}

function startWorker(env: Record<string, string>): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'worker'], {
    cwd: projectRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (/session ready/.test(out)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal}) before it was ready:\n${out}`)));
  });
  ready.catch(() => undefined);
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, output: () => out, ready, exited };
}

/** The counters the worker logs once its ingest has stopped. */
function stoppedCounters(output: string): { received: number; stored: number; duplicates: number } {
  const line = output.split('\n').find((l) => l.includes('"msg":"ingest stopped"'));
  if (!line) throw new Error(`no "ingest stopped" line in the worker's log:\n${output.slice(-2000)}`);
  return JSON.parse(line) as { received: number; stored: number; duplicates: number };
}

describe.skipIf(!realPostgresConfigured() || !mosquittoAvailable())('ingest worker on SIGTERM', () => {
  let broker: BenchBroker;
  const dbs: TestDatabase[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    broker = await BenchBroker.start({ maxInflightMessages: 1000, maxQueuedMessages: 1_000_000, source: 'test' });
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await broker?.stop();
    for (const db of dbs) await db.drop();
  });

  it('acknowledges what it committed before it disconnects: the next worker gets no duplicates, nothing is lost', async () => {
    const testDb = await createTestDatabase();
    dbs.push(testDb);
    const deviceIds = await seedStreamDevices(testDb, 20, 'term');
    const env = { PATH: process.env.PATH ?? '', DATABASE_URL: testDb.url!, MQTT_URL: broker.url, WORKER_ID: 'sigterm', LOG_LEVEL: 'info' };

    const first = startWorker(env);
    children.push(first.child);
    await first.ready;

    const clients: MqttClient[] = await Promise.all(
      deviceIds.map((id) =>
        mqtt.connectAsync(broker.url, { clientId: `pub-${id}`, username: id, protocolVersion: 4, reconnectPeriod: 100 }),
      ),
    );
    const published: string[] = [];
    const acks: Array<Promise<unknown>> = [];
    const baseMs = Date.now() - 3_600_000;
    const rounds = 200;
    const stream = (async () => {
      for (let seq = 1; seq <= rounds; seq++) {
        deviceIds.forEach((id, i) => {
          const reading = { ts: new Date(baseMs + seq * 1000).toISOString(), lat: -10.17 - i * 1e-4, lon: 123.6 + seq * 1e-5, seq };
          acks.push(
            clients[i]!.publishAsync(telemetryTopic(id), JSON.stringify(reading), { qos: 1 }).then(() => published.push(`${id}:${seq}`)),
          );
        });
        await sleep(15);
      }
    })();

    // Mid-stream: the first worker is told to stop while messages keep arriving.
    await sleep(1200);
    first.child.kill('SIGTERM');
    expect(await first.exited, first.output()).toBe(0);
    const firstCounters = stoppedCounters(first.output());

    const second = startWorker(env);
    children.push(second.child);
    await second.ready;
    await stream;
    await Promise.all(acks);

    const storedKeys = async () =>
      (await testDb.database.query<{ k: string }>(`SELECT device_id || ':' || seq AS k FROM telemetry`)).map((r) => r.k);
    let last = -1;
    for (let stable = 0, waited = 0; stable < 5 && waited < 60_000; waited += 500) {
      const n = (await storedKeys()).length;
      if (n >= published.length) break;
      stable = n === last ? stable + 1 : 0;
      last = n;
      await sleep(500);
    }
    second.child.kill('SIGTERM');
    expect(await second.exited, second.output()).toBe(0);
    const secondCounters = stoppedCounters(second.output());
    await Promise.all(clients.map((c) => c.endAsync()));

    const score = scoreStream(published, await storedKeys());
    console.info('sigterm:', JSON.stringify({ first: firstCounters, second: secondCounters, score }));
    expect(published).toHaveLength(deviceIds.length * rounds);
    // The first worker did real work before it stopped, and the second took over mid-stream.
    expect(firstCounters.stored).toBeGreaterThan(0);
    expect(secondCounters.stored).toBeGreaterThan(0);
    expect({ lost: score.lost, duplicated: score.duplicated, unexpected: score.unexpected }).toEqual({
      lost: 0,
      duplicated: 0,
      unexpected: 0,
    });
    expect(firstCounters.stored + secondCounters.stored).toBe(published.length);
    // Nothing the first worker committed came back to the second one.
    expect(secondCounters.duplicates).toBe(0);
  }, 120_000);

  it('serves /metrics, /healthz and /readyz on METRICS_PORT without the API', async () => {
    const testDb = await createTestDatabase();
    dbs.push(testDb);
    const [deviceId] = await seedStreamDevices(testDb, 1, 'term');
    const metricsPort = await freePort();
    const worker = startWorker({
      PATH: process.env.PATH ?? '',
      DATABASE_URL: testDb.url!,
      MQTT_URL: broker.url,
      WORKER_ID: 'metrics',
      LOG_LEVEL: 'info',
      METRICS_PORT: String(metricsPort),
    });
    children.push(worker.child);
    await worker.ready;
    for (let i = 0; i < 100 && !worker.output().includes('"msg":"serving metrics"'); i++) await sleep(100);
    const base = `http://127.0.0.1:${metricsPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: true, mqtt: true } });
    // The API is not here.
    expect((await fetch(`${base}/api/v1/vehicles`)).status).toBe(404);

    const device = await mqtt.connectAsync(broker.url, { clientId: `pub-${deviceId}`, username: deviceId, protocolVersion: 4 });
    await device.publishAsync(
      telemetryTopic(deviceId!),
      JSON.stringify({ ts: new Date().toISOString(), lat: -10.17, lon: 123.6, seq: 1 }),
      { qos: 1 },
    );
    await device.publishAsync(telemetryTopic(deviceId!), '{"lat": "nope"', { qos: 1 });
    await device.endAsync();
    const value = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    let text = '';
    for (let i = 0; i < 100; i++) {
      text = await (await fetch(`${base}/metrics`)).text();
      if (value(text, 'armada_ingest_readings_stored_total') >= 1) break;
      await sleep(100);
    }
    expect(value(text, 'armada_ingest_readings_stored_total')).toBe(1);
    expect(text).toMatch(/^armada_ingest_quarantined_total\{reason="[a-z_]+"\} 1$/m);
    worker.child.kill('SIGTERM');
    expect(await worker.exited, worker.output()).toBe(0);
  }, 60_000);
});
