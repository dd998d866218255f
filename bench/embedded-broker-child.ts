/**
 * The embedded broker (src/broker/embedded.ts) alone in a process, for
 * bench/embedded-broker.ts: devices are looked up in memory and every message is
 * "committed" in batches every COMMIT_MS, as the ingest worker does, so what is measured
 * is the broker. Sends `{ port }` when listening, then `{ stats }` every second.
 *
 * As in the service, each committed reading is published on its live topic, and an
 * internal client (the API's live feed, in the same process there) subscribes to them.
 * In the service that client reads its socket only when the event loop is free, so a
 * long commit or report stalls it; here it stops reading for SUBSCRIBER_STALL_MS every
 * SUBSCRIBER_EVERY_MS (0: never), to reproduce that.
 *
 * BENCH_MODE=service runs the whole embedded default instead (`start`: PGlite in a
 * temporary DATA_DIR, the ingest worker, the API), with BENCH_DEVICES devices
 * registered bench-0 … bench-N-1: what a real zero-setup install holds. With
 * BENCH_DATA_DIR, BENCH_MQTT_PORT and BENCH_HTTP_PORT it runs on that data directory and
 * those ports, and registers the devices only if they are not there yet: started again
 * after a SIGKILL, it is a restart after a crash.
 */
import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as mqttPacket from 'mqtt-packet';
import { pino } from 'pino';
import { startEmbeddedBroker } from '../src/broker/embedded.js';
import type { DeviceIdentity } from '../src/domain/ingest-types.js';
import { hashDeviceSecret } from '../src/security/secrets.js';

const secret = process.env.BENCH_DEVICE_SECRET ?? 'bench-secret';
const commitMs = Number(process.env.COMMIT_MS ?? 20);
const maxConnections = process.env.BENCH_MAX_CONNECTIONS ? Number(process.env.BENCH_MAX_CONNECTIONS) : undefined;
// One hash for every device: the bench measures the broker, not 5,000 PBKDF2 hashings at start.
const secretHash = hashDeviceSecret(secret);
const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));

const stallMs = Number(process.env.SUBSCRIBER_STALL_MS ?? 0);
const stallEveryMs = Number(process.env.SUBSCRIBER_EVERY_MS ?? 0);

let pending: Array<{ topic: string; resolve: () => void }> = [];
let committed = 0;
let livePublished = 0;
setInterval(() => {
  const batch = pending;
  pending = [];
  committed += batch.length;
  for (const m of batch) m.resolve();
  for (const m of batch) {
    // About the size of a real live position.
    const position = { lat: -10.17, lon: 123.6, speedKmh: 30, at: Date.now(), pad: 'x'.repeat(300) };
    broker.publish(`fleet/v1/live/dept-1/${m.topic.split('/')[3]}`, JSON.stringify(position));
    livePublished++;
  }
}, commitMs).unref();

if (process.env.BENCH_MODE === 'service') await runService();

async function runService(): Promise<never> {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { loadConfig } = await import('../src/config.js');
  const { startServices } = await import('../src/runtime.js');
  const keptDataDir = process.env.BENCH_DATA_DIR;
  const dataDir = keptDataDir ?? mkdtempSync(join(tmpdir(), 'armada-bench-embedded-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    HTTP_PORT: process.env.BENCH_HTTP_PORT ?? '0',
    MQTT_PORT: process.env.BENCH_MQTT_PORT ?? '0',
    LOG_LEVEL: 'warn',
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('ROLLUP_'))),
    ...(maxConnections === undefined ? {} : { MQTT_MAX_CONNECTIONS: String(maxConnections) }),
  });
  const services = await startServices(config, { api: true, worker: true }, { logger });
  const repos = services.repos;
  const registered = (await repos.devices.findById('bench-0')) !== undefined;
  const dep = registered ? undefined : await repos.departments.create({ code: 'BENCH', name: 'Bench' });
  for (let i = 0; dep && i < Number(process.env.BENCH_DEVICES ?? 5000); i++) {
    const v = await repos.vehicles.create({
      plateNumber: `DH ${i} BN`,
      departmentId: dep.id,
      kind: 'car',
      fuelType: 'pertalite',
      tankCapacityLitres: 50,
      ratedLitresPer100Km: 9,
      idleLitresPerHour: 0.8,
      monthlyAllocationLitres: 200,
    });
    await repos.devices.create({ id: `bench-${i}`, vehicleId: v.id, protocol: 'armada', secretHash });
  }
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  process.send!({ port: services.broker!.port });
  setInterval(() => {
    process.send!({
      stats: {
        committed: Number(services.ingest?.counters.stored ?? 0),
        rssMb: Math.round(process.memoryUsage().rss / 1e6),
        lagMaxMs: Math.round(lag.max / 1e6),
        lagP99Ms: Math.round(lag.percentile(99) / 1e6),
      },
    });
    lag.reset();
  }, 1000).unref();
  process.on(
    'disconnect',
    () =>
      void services.close().finally(() => {
        if (!keptDataDir) rmSync(dataDir, { recursive: true, force: true });
        process.exit(0);
      }),
  );
  return new Promise<never>(() => undefined);
}

const broker = await startEmbeddedBroker({
  host: '127.0.0.1',
  port: 0,
  logger,
  findDevice: async (id): Promise<DeviceIdentity | undefined> =>
    /^bench-\d+$/.test(id) ? ({ id, secretHash, active: true, protocol: 'armada' } as unknown as DeviceIdentity) : undefined,
  ingest: (message) => new Promise<void>((resolve) => pending.push({ topic: message.topic, resolve })),
  ...(maxConnections === undefined ? {} : { limits: { maxConnections } }),
});

// The live feed's subscriber, with the internal credential.
const internal = new URL(broker.internalUrl);
const subscriber = net.connect(broker.port, '127.0.0.1');
let liveReceived = 0;
const parser = mqttPacket.parser({ protocolVersion: 4 });
parser.on('packet', (p: mqttPacket.Packet) => {
  if (p.cmd === 'publish') liveReceived++;
});
subscriber.on('data', (d: Buffer) => parser.parse(d));
subscriber.write(
  mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clientId: 'bench-live',
    clean: true,
    keepalive: 600,
    username: decodeURIComponent(internal.username),
    password: Buffer.from(decodeURIComponent(internal.password)),
  }),
);
subscriber.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'fleet/v1/live/#', qos: 0 }] }));
if (stallMs > 0 && stallEveryMs > 0) {
  setInterval(() => {
    subscriber.pause();
    setTimeout(() => subscriber.resume(), stallMs).unref();
  }, stallEveryMs).unref();
}

const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
process.send!({ port: broker.port });
setInterval(() => {
  process.send!({
    stats: {
      committed,
      livePublished,
      liveReceived,
      rssMb: Math.round(process.memoryUsage().rss / 1e6),
      lagMaxMs: Math.round(lag.max / 1e6),
      lagP99Ms: Math.round(lag.percentile(99) / 1e6),
    },
  });
  lag.reset();
}, 1000).unref();
process.on('disconnect', () => void broker.close().finally(() => process.exit(0)));
