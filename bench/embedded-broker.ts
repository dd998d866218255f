/**
 * How many devices the embedded broker holds: `npx tsx bench/embedded-broker.ts
 * [--devices 5000] [--interval-s 10] [--duration-s 60] [--connect-per-s 0]`.
 *
 * The broker runs alone in a child process (bench/embedded-broker-child.ts, the real
 * src/broker/embedded.ts with an in-memory device table and batch "commits"); this
 * process opens one bare MQTT 3.1.1 connection per device on 127.0.0.1 (mqtt-packet,
 * as a tracker would: no client library's queues in between), each publishing a QoS 1
 * reading every interval, and measures how long PUBACKs take. Bounded in time: it
 * stops after --duration-s whatever happens, and reports whether the broker died.
 *
 * A restart under load: `--service --restart-after-s 30` runs the whole embedded default
 * on a data directory of its own, kills it with SIGKILL after that many seconds (a crash)
 * and starts it again on the same data and ports. The devices keep making a reading every
 * interval whether connected or not, reconnect after 0.5 to 1.5 s, and send what they
 * buffered with up to --window publishes in flight. Measured from the new start: when the
 * broker accepts the first device again, when the API first answers GET /healthz, and the
 * readings acknowledged in each second after that; --duration-s then counts from that
 * first device accepted again.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import * as mqttPacket from 'mqtt-packet';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '5000' },
    'interval-s': { type: 'string', default: '10' },
    'duration-s': { type: 'string', default: '60' },
    /** 0: every device connects at once (a restart: they all reconnect together). */
    'connect-per-s': { type: 'string', default: '0' },
    'max-connections': { type: 'string' },
    /** The whole embedded default (PGlite, ingest, API) instead of the broker alone. */
    service: { type: 'boolean', default: false },
    /** With --service: kill the service after this many seconds and start it again (0: never). */
    'restart-after-s': { type: 'string', default: '0' },
    /** Publishes each device keeps in flight (default: no limit, as a tracker that does not wait). */
    window: { type: 'string' },
  },
});
const devices = Number(values.devices);
const intervalMs = Number(values['interval-s']) * 1000;
const durationMs = Number(values['duration-s']) * 1000;
const connectPerS = Number(values['connect-per-s']);
const restartAfterMs = Number(values['restart-after-s']) * 1000;
const window = values.window === undefined ? Number.POSITIVE_INFINITY : Number(values.window);
const SECRET = 'bench-secret';
if (restartAfterMs > 0 && !values.service) throw new Error('--restart-after-s needs --service');

/** A port free now, for a service that must come back on the same one. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
const restartable =
  restartAfterMs > 0
    ? { dataDir: mkdtempSync(join(tmpdir(), 'armada-bench-restart-')), mqttPort: await freePort(), httpPort: await freePort() }
    : undefined;

let child!: ChildProcess;
let childErr = '';
let childExit: string | undefined;
const stats: Array<{ committed: number; rssMb: number; lagMaxMs: number; lagP99Ms: number; atMs: number }> = [];
function startChild(): Promise<number> {
  childErr = '';
  childExit = undefined;
  const started = fork(fileURLToPath(new URL('./embedded-broker-child.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx', ...process.execArgv.filter((a) => a.startsWith('--max-old-space-size'))],
    env: {
      ...process.env,
      BENCH_DEVICE_SECRET: SECRET,
      BENCH_DEVICES: String(devices),
      ...(values.service ? { BENCH_MODE: 'service' } : {}),
      ...(values['max-connections'] ? { BENCH_MAX_CONNECTIONS: values['max-connections'] } : {}),
      ...(restartable
        ? {
            BENCH_DATA_DIR: restartable.dataDir,
            BENCH_MQTT_PORT: String(restartable.mqttPort),
            BENCH_HTTP_PORT: String(restartable.httpPort),
          }
        : {}),
    },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  child = started;
  started.stderr!.on('data', (d: Buffer) => (childErr += d.toString()));
  started.on('exit', (code, signal) => {
    if (child === started) childExit = `exit ${code ?? signal}`;
  });
  return new Promise<number>((resolve, reject) => {
    started.on('message', (m: { port?: number; stats?: Omit<(typeof stats)[number], 'atMs'> }) => {
      if (m.port) resolve(m.port);
      if (m.stats) stats.push({ ...m.stats, atMs: Date.now() });
    });
    started.once('exit', () => reject(new Error(`broker child died at start:\n${childErr}`)));
  });
}
process.stderr.write(values.service ? `starting the embedded default with ${devices} registered devices…\n` : '');
const port = await startChild();

const startedAt = Date.now();
let connected = 0;
let refused = 0;
let sent = 0;
let acked = 0;
let worstAckMs = 0;
const refusalCodes = new Map<number, number>();
/** Per second of the run: the slowest PUBACK that arrived then. */
const worstPerSecond = new Map<number, number>();
const sockets: net.Socket[] = [];

/** Set once the devices should stop reconnecting (the run is over). */
let finished = false;
/** Acknowledgements per second of the run (index: second since startedAt). */
const ackedPerSecond: number[] = [];
/** When a device was last accepted (CONNACK 0), in epoch ms. */
const connackTimes: number[] = [];

function device(i: number): void {
  const id = `bench-${i}`;
  const topic = `fleet/v1/devices/${id}/telemetry`;
  /** Readings made and not yet sent (kept while disconnected, as a tracker buffers them). */
  const queue: string[] = [];
  let seq = 0;
  /** Sends what the window allows on the current connection, if one is accepted. */
  let pumpNow: (() => void) | undefined;
  const makeReading = () => {
    queue.push(JSON.stringify({ seq: ++seq, ts: new Date().toISOString(), lat: -10.17, lon: 123.6, speedKmh: 30, fuelLitres: 20 }));
    pumpNow?.();
  };
  setTimeout(() => {
    if (finished) return;
    makeReading();
    producers.push(setInterval(makeReading, intervalMs));
  }, Math.random() * intervalMs);

  function connect(): void {
    const socket = net.connect(port, '127.0.0.1');
    sockets.push(socket);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    /** messageId → [sent at, payload]. */
    const inFlight = new Map<number, [number, string]>();
    let nextId = 1;
    let accepted = false;
    const pump = () => {
      while (accepted && queue.length > 0 && inFlight.size < window) {
        const payload = queue.shift()!;
        const messageId = nextId;
        nextId = nextId >= 65535 ? 1 : nextId + 1;
        inFlight.set(messageId, [Date.now(), payload]);
        sent++;
        socket.write(mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 1, messageId, retain: false, dup: false }));
      }
    };
    socket.on('error', () => undefined);
    socket.on('close', () => {
      pumpNow = undefined;
      if (accepted) connected--;
      // What was in flight is sent again on the next connection (a tracker resends what it has no PUBACK for).
      queue.unshift(...[...inFlight.values()].map(([, payload]) => payload));
      inFlight.clear();
      if (restartable && !finished) setTimeout(connect, 500 + Math.random() * 1000);
    });
    socket.on('connect', () =>
      socket.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clientId: id,
          clean: true,
          keepalive: 60,
          username: id,
          password: Buffer.from(SECRET),
        }),
      ),
    );
    socket.on('data', (d: Buffer) => parser.parse(d));
    parser.on('packet', (p: mqttPacket.Packet) => {
      if (p.cmd === 'connack') {
        if (p.returnCode !== 0) {
          refused++;
          refusalCodes.set(p.returnCode ?? -1, (refusalCodes.get(p.returnCode ?? -1) ?? 0) + 1);
          return;
        }
        connected++;
        accepted = true;
        connackTimes.push(Date.now());
        // New readings are sent as they are made.
        pumpNow = pump;
        pump();
      } else if (p.cmd === 'puback') {
        const entry = inFlight.get(p.messageId!);
        if (entry === undefined) return;
        inFlight.delete(p.messageId!);
        acked++;
        const ms = Date.now() - entry[0];
        worstAckMs = Math.max(worstAckMs, ms);
        const second = Math.floor((Date.now() - startedAt) / 1000);
        worstPerSecond.set(second, Math.max(worstPerSecond.get(second) ?? 0, ms));
        ackedPerSecond[second] = (ackedPerSecond[second] ?? 0) + 1;
        pump();
      }
    });
  }
  connect();
}
const producers: NodeJS.Timeout[] = [];

for (let i = 0; i < devices; i++) {
  device(i);
  if (connectPerS > 0 && i % connectPerS === connectPerS - 1) await sleep(1000);
}

/** The restart's figures, when one was asked for. */
let restart: Record<string, unknown> | undefined;
const restartAt = restartAfterMs > 0 ? startedAt + restartAfterMs : Number.POSITIVE_INFINITY;
const deadline = startedAt + durationMs;
const progress = () => {
  const s = stats.at(-1);
  const second = Math.floor((Date.now() - startedAt) / 1000);
  process.stderr.write(
    `t=${second}s connected=${connected} refused=${refused} sent=${sent} acked=${acked} ` +
      `acked(last s)=${ackedPerSecond[second - 1] ?? 0} worstAck(last s)=${worstPerSecond.get(second - 1) ?? '-'}ms` +
      (s ? ` broker: rss=${s.rssMb}MB loopLagMax=${s.lagMaxMs}ms` : '') +
      '\n',
  );
};
while (Date.now() < (restartable ? restartAt : deadline) && !childExit) {
  await sleep(1000);
  progress();
}
if (restartable && !childExit) {
  const second = Math.floor((Date.now() - startedAt) / 1000);
  // The last ten whole seconds (a second with no acknowledgement has no entry).
  const before = Array.from({ length: Math.min(10, second) }, (_, k) => ackedPerSecond[second - 1 - k] ?? 0);
  const beforePerS = Math.round(before.reduce((a, b) => a + b, 0) / Math.max(1, before.length));
  process.stderr.write(`crash: SIGKILL to the service (acknowledged ${beforePerS}/s over the last ${before.length} s)\n`);
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  const killedAt = Date.now();
  const statsFrom = stats.length;
  // --duration-s counts from the first device accepted again (the start itself may take long), within two minutes more.
  const restartDeadline = () => {
    const accepted = connackTimes.find((t) => t > killedAt);
    return Math.min(killedAt + durationMs + 120_000, accepted === undefined ? Number.POSITIVE_INFINITY : accepted + durationMs);
  };
  startChild().catch((err: Error) => process.stderr.write(`${err.message}\n`));
  // The API's answer, asked for every 100 ms from the new start.
  let apiAt: number | undefined;
  const healthSamples: Array<{ atMs: number; ms: number }> = [];
  const poller = (async () => {
    while (!finished && Date.now() < restartDeadline()) {
      const asked = Date.now();
      try {
        const res = await fetch(`http://127.0.0.1:${restartable.httpPort}/healthz`, { signal: AbortSignal.timeout(30_000) });
        if (res.ok) {
          apiAt ??= Date.now();
          healthSamples.push({ atMs: asked, ms: Date.now() - asked });
        }
      } catch {
        // Not listening yet.
      }
      await sleep(100);
    }
  })();
  while (Date.now() < restartDeadline() && !childExit) {
    await sleep(1000);
    progress();
  }
  const brokerAt = connackTimes.find((t) => t > killedAt);
  const fromSecond = brokerAt === undefined ? undefined : Math.floor((brokerAt - startedAt) / 1000);
  const after = fromSecond === undefined ? [] : Array.from({ length: 20 }, (_, k) => ackedPerSecond[fromSecond + k] ?? 0);
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : Math.round(xs.reduce((a, b) => a + b, 0) / xs.length));
  const laterHealth = brokerAt === undefined ? [] : healthSamples.filter((h) => h.atMs >= brokerAt && h.atMs < brokerAt + 20_000);
  restart = {
    ackedPerSBeforeCrash: beforePerS,
    startToBrokerMs: brokerAt === undefined ? null : brokerAt - killedAt,
    startToApiMs: apiAt === undefined ? null : apiAt - killedAt,
    brokerToApiMs: brokerAt === undefined || apiAt === undefined ? null : apiAt - brokerAt,
    /** Readings acknowledged in each of the 20 seconds from the first device accepted again. */
    ackedPerSecondAfterBroker: after,
    ackedPerSFirst5s: mean(after.slice(0, 5)),
    ackedPerSFirst20s: mean(after),
    worstHealthzMsFirst20s: Math.max(0, ...laterHealth.map((h) => h.ms)),
    loopLagMaxMsPerSecondAfterStart: stats.slice(statsFrom).map((s) => s.lagMaxMs),
  };
  finished = true;
  await poller;
}
finished = true;
producers.forEach(clearInterval);

for (const s of sockets) s.destroy();
const lastStats = stats.at(-1);
const result = {
  devices,
  intervalS: intervalMs / 1000,
  durationS: Math.round((Date.now() - startedAt) / 1000),
  connected,
  refused,
  refusalCodes: Object.fromEntries(refusalCodes),
  sent,
  acked,
  unacknowledged: sent - acked,
  worstAckMs,
  stored: lastStats?.committed,
  brokerRssMb: lastStats?.rssMb,
  worstLoopLagMs: Math.max(0, ...stats.map((s) => s.lagMaxMs)),
  brokerDied: childExit ?? false,
  ...(restart ? { restart } : {}),
  brokerStderrTail: childErr.split('\n').filter(Boolean).slice(-8),
};
console.log(JSON.stringify(result, null, 2));
if (!childExit) child.disconnect();
await sleep(500);
if (!childExit) child.kill('SIGKILL');
if (restartable) rmSync(restartable.dataDir, { recursive: true, force: true });
process.exit(0);
