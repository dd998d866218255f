/**
 * Scale-out on one machine, without Docker: the production layout of
 * docker-compose.prod.yml run as plain processes. Two ingest workers (`tsx src/cli.ts
 * worker`, WORKER_COUNT=2, each with METRICS_PORT as Prometheus scrapes it) and two API
 * instances (`tsx src/cli.ts api`) on a fresh PostgreSQL database and a private Mosquitto
 * that runs deploy/mosquitto/mosquitto.conf as shipped (listeners moved to free ports,
 * paths to a temporary folder: tests/support/mosquitto-deploy.ts). The workers log in as
 * the service user on the service listener; the devices' traffic comes in on the device
 * listener, from a few load publishers that each speak for many devices (the open-file
 * limit here is 20,000 per process): each is a user of the devices' password file that
 * the ACL lets write every device's telemetry topic, the one addition to the shipped files.
 *
 * Scored like the ingest fault tests (tests/support/loss-checker.ts): every reading the
 * broker acknowledged is stored exactly once. WebSocket clients on both API instances, each
 * watching one department, must receive every one of its vehicles at its final position and
 * nothing from other departments. Each worker's /metrics must count what it stored.
 *
 * Used by tests/integration/scale-out.test.ts (1,000 devices) and `npm run bench -- --only
 * scale-out` (10,000 devices).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import WebSocket from 'ws';
import { telemetryTopic } from '../src/domain/topics.js';
import { scoreStream, type LossReport } from '../tests/support/loss-checker.js';
import { writeDeployConfig, writeTestCertificate, type ListenerPorts } from '../tests/support/mosquitto-deploy.js';
import type { BenchContext } from './ingest.js';
import { canConnect, freePort, MOSQUITTO_BIN, mosquittoAvailable } from './mosquitto.js';
import { createBenchDatabase, seedFleet } from './postgres.js';
import { seedRoundTheClockHours } from './seed.js';
import { prepareMessages, publishAll } from './publisher.js';
import { formatInt, type BenchSection } from './report.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DEPLOY_ACL = join(ROOT, 'deploy/mosquitto/acl');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ScaleOutOptions {
  adminUrl: string;
  devices: number;
  readingsPerDevice: number;
  /** Load publishers (MQTT connections) that share the devices between them. */
  publishers: number;
  /** WebSocket clients on each API instance, each watching another department. */
  clientsPerApi: number;
  signal?: AbortSignal;
  progress?: (line: string) => void;
}

export interface LiveClientScore {
  api: number;
  departmentId: string;
  vehicles: number;
  /** Vehicles whose last position received is their final reading. */
  atFinalPosition: number;
  positionsReceived: number;
  /** Positions of vehicles outside the watched department (must be 0). */
  foreign: number;
}

export interface ScaleOutResult {
  devices: number;
  loss: LossReport;
  /** Devices each worker subscribed to at start (from its log). */
  owned: number[];
  /** armada_ingest_readings_stored_total scraped from each worker's METRICS_PORT. */
  storedByWorkerMetrics: number[];
  /** armada_live_clients scraped from each API instance. */
  liveClientsByApi: number[];
  clients: LiveClientScore[];
  publishSeconds: number;
  /** From the first publish until every reading was in the database. */
  ingestSeconds: number;
  /** Telemetry partitions with their indexes, in bytes, once everything was stored. */
  telemetryBytes: number;
  /** CPU seconds (user + system, from /proc) of each worker and API process from the first publish to the end (start-up excluded). */
  cpuSeconds: { workers: number[]; apis: number[] };
}

/** A child process with its output kept. */
class Proc {
  log = '';
  readonly child: ChildProcess;

  constructor(argv: string[], env: Record<string, string>, cwd = ROOT) {
    this.child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (!this.running) throw new Error(`${what}: the process exited (${this.child.exitCode ?? this.child.signalCode}):\n${this.log}`);
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms:\n${this.log}`);
      await sleep(100);
    }
  }

  /** CPU seconds so far (utime + stime from /proc/<pid>/stat), or NaN where /proc is missing. */
  cpuSeconds(): number {
    try {
      const stat = execFileSync('cat', [`/proc/${this.child.pid}/stat`], { encoding: 'utf8' });
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      return (Number(fields[11]) + Number(fields[12])) / ticks;
    } catch {
      return Number.NaN;
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    const exited = once(this.child, 'exit');
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
}

/** deploy/mosquitto as shipped, on free ports, plus the load publishers' users. */
async function startDeployBroker(
  loadUsers: string[],
  loadPassword: string,
  servicePassword: string,
): Promise<{ broker: Proc; ports: ListenerPorts; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'armada-scale-out-mosquitto-'));
  const ports: ListenerPorts = { devices: await freePort(), devicesTls: await freePort(), service: await freePort() };
  const conf = writeDeployConfig(dir, ports);
  writeTestCertificate(dir);
  execFileSync('mosquitto_passwd', ['-c', '-b', join(dir, 'service-passwd'), 'armada', servicePassword]);
  writeFileSync(join(dir, 'passwd'), '');
  for (const user of loadUsers) execFileSync('mosquitto_passwd', ['-b', join(dir, 'passwd'), user, loadPassword]);
  copyFileSync(DEPLOY_ACL, join(dir, 'acl'));
  appendFileSync(
    join(dir, 'acl'),
    `\n# Added by bench/scale-out.ts: load publishers, each speaking for many devices.\n${loadUsers
      .map((u) => `user ${u}\ntopic write fleet/v1/devices/+/telemetry\n`)
      .join('')}`,
  );
  for (const f of ['service-passwd', 'passwd', 'acl']) chmodSync(join(dir, f), 0o644);
  const broker = new Proc([MOSQUITTO_BIN, '-c', conf], { PATH: process.env.PATH ?? '' });
  await broker.waitFor(
    async () => (await Promise.all(Object.values(ports).map((p) => canConnect(p)))).every(Boolean),
    'mosquitto listening',
    10_000,
  );
  return { broker, ports, dir };
}

/** The value of an unlabelled sample in Prometheus text, or NaN. */
export function sampleValue(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

export async function runScaleOut(options: ScaleOutOptions): Promise<ScaleOutResult> {
  const say = options.progress ?? (() => undefined);
  const logger = pino({ level: 'silent' });
  const servicePassword = randomBytes(12).toString('hex');
  const loadPassword = randomBytes(12).toString('hex');
  const loadUsers = Array.from({ length: options.publishers }, (_, i) => `load-${i}`);
  const adminKey = `scale-out-admin-${randomBytes(12).toString('hex')}`;
  const { broker, ports, dir } = await startDeployBroker(loadUsers, loadPassword, servicePassword);
  const bench = await createBenchDatabase(options.adminUrl, logger).catch(async (err) => {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const workers: Proc[] = [];
  const apis: Proc[] = [];
  const sockets: WebSocket[] = [];
  try {
    say(`seeding ${formatInt(options.devices)} devices`);
    const deviceIds = await seedFleet(bench.database, options.devices);
    await seedRoundTheClockHours(bench.database);
    const rows = await bench.database.query<{ device_id: string; vehicle_id: string; department_id: string }>(
      'SELECT d.id AS device_id, v.id AS vehicle_id, v.department_id FROM devices d JOIN vehicles v ON v.id = d.vehicle_id',
    );
    const serviceUrl = `mqtt://armada:${servicePassword}@127.0.0.1:${ports.service}`;
    const baseEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: bench.url, MQTT_URL: serviceUrl };

    // The workers: one persistent session each on the service listener, half the devices each.
    const metricsPorts = [await freePort(), await freePort()];
    for (const i of [0, 1]) {
      workers.push(
        new Proc([process.execPath, '--import', 'tsx', 'src/cli.ts', 'worker'], {
          ...baseEnv,
          WORKER_COUNT: '2',
          WORKER_INDEX: String(i),
          WORKER_ID: `scale-out-${i}`,
          HTTP_HOST: '127.0.0.1',
          METRICS_PORT: String(metricsPorts[i]),
          LOG_LEVEL: 'info',
        }),
      );
    }
    // The API instances; the first one creates the admin key (as in docker-compose.prod.yml).
    const httpPorts = [await freePort(), await freePort()];
    const ready = async (url: string) => (await fetch(url).catch(() => null))?.ok === true;
    for (const i of [0, 1]) {
      const api = new Proc([process.execPath, '--import', 'tsx', 'src/cli.ts', 'api'], {
        ...baseEnv,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(httpPorts[i]),
        ...(i === 0 ? { ADMIN_API_KEY: adminKey } : {}),
        LOG_LEVEL: 'warn',
      });
      apis.push(api);
      if (i === 0) await api.waitFor(() => ready(`http://127.0.0.1:${httpPorts[0]}/readyz`), 'API 1 ready', 120_000);
    }
    await Promise.all([
      ...workers.map((w, i) => w.waitFor(() => /mqtt session ready/.test(w.log), `worker ${i} subscribed`, 120_000)),
      ...workers.map((w, i) => w.waitFor(() => ready(`http://127.0.0.1:${metricsPorts[i]}/readyz`), `worker ${i} ready`, 120_000)),
      apis[1]!.waitFor(() => ready(`http://127.0.0.1:${httpPorts[1]}/readyz`), 'API 2 ready', 120_000),
    ]);
    const owned = workers.map((w) => Number(/"owned":(\d+)[^\n]*ingest partition/.exec(w.log)?.[1] ?? Number.NaN));
    say(`workers own ${owned.join(' + ')} devices; APIs ready`);

    // Readings: fix times in the past hour, 10 s apart, so each one advances its vehicle.
    const baseS = Math.floor(Date.now() / 1000) - 3600;
    const finalAtMs = new Map<string, number>();
    const byPublisher: Array<Array<{ topic: string; payload: string }>> = loadUsers.map(() => []);
    const published: string[][] = loadUsers.map(() => []);
    for (let seq = 1; seq <= options.readingsPerDevice; seq++) {
      deviceIds.forEach((id, d) => {
        const tsS = baseS + seq * 10;
        const reading = {
          ts: new Date(tsS * 1000).toISOString(),
          lat: -10.17 - (d % 100) * 1e-3,
          lon: 123.6 + seq * 1e-5,
          speedKmh: 30,
          ignition: true,
          seq,
        };
        const p = d % options.publishers;
        byPublisher[p]!.push({ topic: telemetryTopic(id), payload: JSON.stringify(reading) });
        published[p]!.push(`${id}:${tsS}`);
        finalAtMs.set(id, tsS * 1000);
      });
    }

    // WebSocket clients, on both instances, each watching another department.
    const departments = [...new Set(rows.map((r) => r.department_id))].sort();
    const deviceOfVehicle = new Map(rows.map((r) => [r.vehicle_id, r]));
    const scores: LiveClientScore[] = [];
    const clientCount = Math.min(departments.length, options.clientsPerApi * 2);
    const lastAt: Array<Map<string, number>> = [];
    const connect = async (c: number) => {
      const api = c % 2;
      const departmentId = departments[c]!;
      const score: LiveClientScore = {
        api: api + 1,
        departmentId,
        vehicles: rows.filter((r) => r.department_id === departmentId).length,
        atFinalPosition: 0,
        positionsReceived: 0,
        foreign: 0,
      };
      const seen = new Map<string, number>();
      const ws = new WebSocket(`ws://127.0.0.1:${httpPorts[api]}/api/v1/live`, { headers: { authorization: `Bearer ${adminKey}` } });
      sockets.push(ws);
      let snapshots = 0;
      ws.on('message', (data: Buffer) => {
        const message = JSON.parse(data.toString()) as { type: string; positions?: Array<{ vehicleId: string; at: string }> };
        if (message.type === 'snapshot') snapshots++;
        if (message.type !== 'positions') return;
        for (const p of message.positions!) {
          score.positionsReceived++;
          if (deviceOfVehicle.get(p.vehicleId)?.department_id !== departmentId) score.foreign++;
          seen.set(p.vehicleId, Date.parse(p.at));
        }
      });
      const until = async (n: number) => {
        for (const deadline = Date.now() + 60_000; snapshots < n; await sleep(20)) {
          if (Date.now() > deadline) throw new Error(`live client ${c} on API ${api + 1}: no snapshot within 60 s`);
        }
      };
      await once(ws, 'open');
      // The first snapshot (every vehicle the key sees), then the one that answers the subscription.
      await until(1);
      ws.send(JSON.stringify({ type: 'subscribe', departmentIds: [departmentId] }));
      await until(2);
      scores[c] = score;
      lastAt[c] = seen;
    };
    await Promise.all(Array.from({ length: clientCount }, (_, c) => connect(c)));
    say(`${clientCount} WebSocket clients subscribed; publishing ${formatInt(deviceIds.length * options.readingsPerDevice)} readings`);

    const cpuBefore = { workers: workers.map((w) => w.cpuSeconds()), apis: apis.map((a) => a.cpuSeconds()) };
    const startedMs = Date.now();
    await Promise.all(
      byPublisher.map((messages, p) =>
        publishAll(`mqtt://127.0.0.1:${ports.devices}`, prepareMessages(messages), {
          windowSize: 500,
          clientId: loadUsers[p]!,
          username: loadUsers[p]!,
          password: loadPassword,
          ...(options.signal ? { signal: options.signal } : {}),
        }),
      ),
    );
    const publishSeconds = (Date.now() - startedMs) / 1000;
    const expected = published.flat();
    say(`published in ${publishSeconds.toFixed(1)} s; waiting for the workers`);

    const count = async () => Number((await bench.database.query<{ n: string }>('SELECT count(*) AS n FROM telemetry'))[0]!.n);
    // Until everything is in and the count has held for a second, or nothing moved for 60 s
    // (on a loaded machine the workers and the database can stall for several seconds).
    let ingestSeconds = Number.NaN;
    for (let last = -1, still = 0; still < (last >= expected.length ? 2 : 120); ) {
      await sleep(500);
      const n = await count();
      if (n >= expected.length && Number.isNaN(ingestSeconds)) ingestSeconds = (Date.now() - startedMs) / 1000;
      still = n === last ? still + 1 : 0;
      last = n;
    }
    const storedKeys = (
      await bench.database.query<{ k: string }>(`SELECT device_id || ':' || extract(epoch FROM fix_at)::bigint AS k FROM telemetry`)
    ).map((r) => r.k);
    const loss = scoreStream(expected, storedKeys);
    const telemetryBytes = Number(
      (
        await bench.database.query<{ bytes: string }>(
          "SELECT coalesce(sum(pg_total_relation_size(relid)), 0) AS bytes FROM pg_partition_tree('telemetry')",
        )
      )[0]!.bytes,
    );

    // The live feed: each client's vehicles at their final fix (or give up after 60 s).
    const tally = () =>
      scores.forEach((s, c) => {
        s.atFinalPosition = rows.filter(
          (r) => r.department_id === s.departmentId && lastAt[c]!.get(r.vehicle_id) === finalAtMs.get(r.device_id),
        ).length;
      });
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(250)) {
      tally();
      if (scores.every((s) => s.atFinalPosition === s.vehicles)) break;
    }
    tally();

    const scrape = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const storedByWorkerMetrics = await Promise.all(
      metricsPorts.map(async (p) => sampleValue(await scrape(p), 'armada_ingest_readings_stored_total')),
    );
    const liveClientsByApi = await Promise.all(httpPorts.map(async (p) => sampleValue(await scrape(p), 'armada_live_clients')));
    const cpuSeconds = {
      workers: workers.map((w, i) => w.cpuSeconds() - cpuBefore.workers[i]!),
      apis: apis.map((a, i) => a.cpuSeconds() - cpuBefore.apis[i]!),
    };
    return {
      devices: deviceIds.length,
      loss,
      owned,
      storedByWorkerMetrics,
      liveClientsByApi,
      clients: scores,
      publishSeconds,
      ingestSeconds,
      telemetryBytes,
      cpuSeconds,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await Promise.all([...workers, ...apis].map((p) => p.stop()));
    await bench.drop().catch(() => undefined);
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const DEVICES = 10_000;
const READINGS = 10;

/** `npm run bench -- --only scale-out`: 10,000 devices (not --devices, which sizes the ingest bench). */
export async function runScaleOutBench(ctx: BenchContext): Promise<BenchSection> {
  const title = 'Scale-out: 2 ingest workers and 2 API instances, 10,000 devices';
  if (!mosquittoAvailable())
    return { id: 'scale-out', title, status: 'skipped', reason: 'the mosquitto binary is missing', settings: [], rows: [], notes: [] };
  const r = await runScaleOut({
    adminUrl: ctx.adminUrl,
    devices: DEVICES,
    readingsPerDevice: READINGS,
    publishers: 4,
    clientsPerApi: 5,
    signal: ctx.signal,
    progress: (line) => console.log(`  scale-out: ${line}`),
  });
  const live = r.clients;
  const allLive = live.every((c) => c.atFinalPosition === c.vehicles && c.foreign === 0);
  const zero = r.loss.lost === 0 && r.loss.duplicated === 0 && r.loss.unexpected === 0;
  const msgs = r.loss.published;
  const cpu = (xs: number[]) => xs.map((x) => `${x.toFixed(1)} s`).join(' + ');
  return {
    id: 'scale-out',
    title,
    status: 'ok',
    settings: [
      `${formatInt(r.devices)} devices × ${READINGS} QoS 1 readings (${formatInt(msgs)}), sent by 4 load publishers on the device listener of deploy/mosquitto/mosquitto.conf run by the real broker (ports and paths moved); each publisher is a broker user the ACL lets write every device's topic`,
      '2 workers (`tsx src/cli.ts worker`, WORKER_COUNT=2, METRICS_PORT) on the service listener, 2 API instances (`tsx src/cli.ts api`), a fresh PostgreSQL database; everything on this one shared 2-core machine',
      `${live.length} WebSocket clients, alternately on API 1 and API 2, each watching one department of 100 vehicles`,
    ],
    rows: [
      {
        measure: 'Lost / duplicated / unexpected',
        value: `${r.loss.lost} / ${r.loss.duplicated} / ${r.loss.unexpected} of ${formatInt(msgs)}`,
        target: '0 / 0 / 0',
        verdict: zero ? 'PASS' : 'FAIL',
      },
      { measure: 'Devices owned by worker 1 / worker 2', value: r.owned.map(formatInt).join(' / ') },
      { measure: 'Stored, from each worker’s /metrics', value: r.storedByWorkerMetrics.map(formatInt).join(' / ') },
      {
        measure: 'Live clients at every vehicle’s final position (API 1 / API 2)',
        value: [1, 2]
          .map((a) => {
            const mine = live.filter((c) => c.api === a);
            return `${mine.filter((c) => c.atFinalPosition === c.vehicles && c.foreign === 0).length} of ${mine.length}`;
          })
          .join(' / '),
        target: 'all',
        verdict: allLive ? 'PASS' : 'FAIL',
      },
      { measure: 'Publish time (broker acknowledged all)', value: `${r.publishSeconds.toFixed(1)} s` },
      {
        measure: 'First publish to all stored',
        value: `${r.ingestSeconds.toFixed(1)} s (${formatInt(Math.round(msgs / r.ingestSeconds))} readings/s)`,
      },
      { measure: 'CPU from the first publish on: workers / APIs', value: `${cpu(r.cpuSeconds.workers)} / ${cpu(r.cpuSeconds.apis)}` },
      {
        measure: 'Worker CPU per reading stored',
        value: `${Math.round(((r.cpuSeconds.workers[0]! + r.cpuSeconds.workers[1]!) / msgs) * 1e6)} µs`,
      },
      {
        measure: 'Telemetry on disk (table and indexes)',
        value: `${(r.telemetryBytes / 1048576).toFixed(1)} MB, ${Math.round(r.telemetryBytes / msgs)} bytes a reading`,
      },
    ],
    notes: [
      'Run through tsx (as `npm run worker` / `npm run api`), not compiled; the rate is what one 2-core machine gives with broker, database, 4 service processes, publishers and clients on it, not a capacity figure: see the ingest benchmark for that.',
    ],
  };
}
