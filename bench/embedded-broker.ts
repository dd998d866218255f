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
 */
import { fork } from 'node:child_process';
import net from 'node:net';
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
  },
});
const devices = Number(values.devices);
const intervalMs = Number(values['interval-s']) * 1000;
const durationMs = Number(values['duration-s']) * 1000;
const connectPerS = Number(values['connect-per-s']);
const SECRET = 'bench-secret';

const child = fork(fileURLToPath(new URL('./embedded-broker-child.ts', import.meta.url)), [], {
  execArgv: ['--import', 'tsx', ...process.execArgv.filter((a) => a.startsWith('--max-old-space-size'))],
  env: {
    ...process.env,
    BENCH_DEVICE_SECRET: SECRET,
    BENCH_DEVICES: String(devices),
    ...(values.service ? { BENCH_MODE: 'service' } : {}),
    ...(values['max-connections'] ? { BENCH_MAX_CONNECTIONS: values['max-connections'] } : {}),
  },
  stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
});
let childErr = '';
child.stderr!.on('data', (d: Buffer) => (childErr += d.toString()));
let childExit: string | undefined;
child.on('exit', (code, signal) => (childExit = `exit ${code ?? signal}`));
const stats: Array<{ committed: number; rssMb: number; lagMaxMs: number; lagP99Ms: number }> = [];
process.stderr.write(values.service ? `starting the embedded default with ${devices} registered devices…\n` : '');
const port = await new Promise<number>((resolve, reject) => {
  child.on('message', (m: { port?: number; stats?: (typeof stats)[number] }) => {
    if (m.port) resolve(m.port);
    if (m.stats) stats.push(m.stats);
  });
  child.once('exit', () => reject(new Error(`broker child died at start:\n${childErr}`)));
});

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

function device(i: number): void {
  const id = `bench-${i}`;
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const inFlight = new Map<number, number>();
  let nextId = 1;
  let timer: NodeJS.Timeout | undefined;
  let seq = 0;
  socket.on('error', () => undefined);
  socket.on('close', () => {
    clearInterval(timer);
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
      const publish = () => {
        const messageId = nextId;
        nextId = nextId >= 65535 ? 1 : nextId + 1;
        inFlight.set(messageId, Date.now());
        sent++;
        const payload = JSON.stringify({ seq: ++seq, ts: new Date().toISOString(), lat: -10.17, lon: 123.6, speedKmh: 30, fuelLitres: 20 });
        const topic = `fleet/v1/devices/${id}/telemetry`;
        socket.write(mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 1, messageId, retain: false, dup: false }));
      };
      setTimeout(() => {
        publish();
        timer = setInterval(publish, intervalMs);
      }, Math.random() * intervalMs);
    } else if (p.cmd === 'puback') {
      const at = inFlight.get(p.messageId!);
      if (at === undefined) return;
      inFlight.delete(p.messageId!);
      acked++;
      const ms = Date.now() - at;
      worstAckMs = Math.max(worstAckMs, ms);
      const second = Math.floor((Date.now() - startedAt) / 1000);
      worstPerSecond.set(second, Math.max(worstPerSecond.get(second) ?? 0, ms));
    }
  });
}

for (let i = 0; i < devices; i++) {
  device(i);
  if (connectPerS > 0 && i % connectPerS === connectPerS - 1) await sleep(1000);
}

const deadline = startedAt + durationMs;
while (Date.now() < deadline && !childExit) {
  await sleep(1000);
  const s = stats.at(-1);
  const second = Math.floor((Date.now() - startedAt) / 1000);
  process.stderr.write(
    `t=${second}s connected=${connected} refused=${refused} sent=${sent} acked=${acked} ` +
      `worstAck(last s)=${worstPerSecond.get(second - 1) ?? '-'}ms` +
      (s ? ` broker: rss=${s.rssMb}MB loopLagMax=${s.lagMaxMs}ms` : '') +
      '\n',
  );
}

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
  brokerStderrTail: childErr.split('\n').filter(Boolean).slice(-8),
};
console.log(JSON.stringify(result, null, 2));
if (!childExit) child.disconnect();
await sleep(500);
if (!childExit) child.kill('SIGKILL');
process.exit(0);
