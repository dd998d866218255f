/**
 * Live feed latency: from a device's publish to a fleet manager's WebSocket. 2,000
 * devices each report once a second (2,000 msg/s) to a private Mosquitto; Armada runs as
 * shipped (`start`, its own process) on a fresh PostgreSQL database; 200 WebSocket
 * clients, each watching one department as a manager would, measure for every position
 * they receive the time since its fix, which the publisher stamps with the moment it
 * publishes; 20 more clients each follow one vehicle. The path measured: broker → ingest
 * batch and commit → live topic → API instance → per-client conflation (at most 10
 * batches a second) → WebSocket.
 *
 * Two targets, as decided for the live feed: a client following single vehicles p99 under
 * 100 ms (the pipeline alone: its vehicle reports once a second, so the batch limit never
 * holds a position back); a department client p99 under 200 ms (the 100 ms batching
 * window plus the pipeline: about 100 positions a second reach it, one batch every 100 ms).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { pino } from 'pino';
import WebSocket from 'ws';
import { telemetryTopic } from '../src/domain/topics.js';
import type { BenchContext } from './ingest.js';
import { buildLikeTheImage, imageNodeOptions } from './image-build.js';
import { BenchBroker, freePort, mosquittoAvailable } from './mosquitto.js';
import { createBenchDatabase } from './postgres.js';
import { formatInt, type BenchSection } from './report.js';
import { seedFleet, seedRoundTheClockHours } from './seed.js';
import { percentile } from './stats.js';

const DEVICES = 2000;
const CLIENTS = 200;
/** Besides them, clients that each follow one vehicle (a manager watching one car). */
const FOLLOWERS = 20;
/** Devices whose messages a bare MQTT subscriber also takes, straight from the broker: the machine's floor in the same run. */
const BASELINE_DEVICES = 20;
const RATE_PER_S = 2000;
const WARMUP_S = 5;
const MEASURE_S = 20;
/** A department client: the 100 ms batching window plus the pipeline. */
const TARGET_DEPARTMENT_P99_MS = 200;
/** A client following single vehicles: the pipeline alone. */
const TARGET_FOLLOWER_P99_MS = 100;
/** The CPU time a process has used so far (user + system), from /proc; null where there is none. */
function cpuMsOf(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of the line (11 and 12 after the command name), in clock ticks (100 a second).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runLiveBench(ctx: BenchContext): Promise<BenchSection> {
  const title = 'Live feed: MQTT publish to WebSocket receipt';
  if (!mosquittoAvailable())
    return { id: 'live', title, status: 'skipped', reason: 'the mosquitto binary is missing', settings: [], rows: [], notes: [] };
  const logger = pino({ level: 'silent' });
  // First: if the build fails, there is nothing yet to clean up.
  const build = await buildLikeTheImage();
  const broker = await BenchBroker.start({
    maxInflightMessages: 1000,
    maxQueuedMessages: 1_000_000,
    source: 'deploy/mosquitto/mosquitto.conf',
  });
  const bench = await createBenchDatabase(ctx.adminUrl, logger);
  const httpPort = await freePort();
  const adminKey = `bench-live-admin-${Date.now()}-0123456789`;
  const service = spawn(process.execPath, [...imageNodeOptions(), build.cli, 'start'], {
    cwd: build.app,
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: bench.url,
      MQTT_URL: broker.url,
      HTTP_PORT: String(httpPort),
      ADMIN_API_KEY: adminKey,
      LOG_LEVEL: 'warn',
      // The clients here share one key (in use, each manager has their own): lift the per-key cap of live connections.
      LIVE_MAX_CONNECTIONS_PER_KEY: String(CLIENTS + FOLLOWERS),
      // The knob that trades latency for batch size, there to be experimented with.
      ...(process.env.INGEST_BATCH_WAIT_MS ? { INGEST_BATCH_WAIT_MS: process.env.INGEST_BATCH_WAIT_MS } : {}),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let serviceLog = '';
  service.stderr!.on('data', (d: Buffer) => (serviceLog += d.toString()));
  const sockets: WebSocket[] = [];
  let publisher: mqtt.MqttClient | undefined;
  let baseline: mqtt.MqttClient | undefined;
  try {
    const deviceIds = await seedFleet(bench.database, DEVICES);
    await seedRoundTheClockHours(bench.database);
    const departments = await bench.database.query<{ id: string }>('SELECT id FROM departments ORDER BY code');
    const base = `http://127.0.0.1:${httpPort}`;
    for (let i = 0; ; i++) {
      if (service.exitCode !== null) throw new Error(`the service exited:\n${serviceLog}`);
      if (i > 600) throw new Error('the service did not get ready within 60 s');
      if ((await fetch(`${base}/readyz`).catch(() => null))?.ok) break;
      await sleep(100);
    }

    let measuring = false;
    const latenciesMs: number[] = [];
    let received = 0;
    for (let c = 0; c < CLIENTS; c++) {
      const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/api/v1/live`, { headers: { authorization: `Bearer ${adminKey}` } });
      ws.on('message', (data: Buffer) => {
        const atMs = Date.now();
        const message = JSON.parse(data.toString()) as { type: string; positions?: Array<{ at: string }> };
        if (message.type !== 'positions' || !measuring) return;
        for (const p of message.positions!) {
          latenciesMs.push(atMs - Date.parse(p.at));
          received++;
        }
      });
      await once(ws, 'open');
      ws.send(JSON.stringify({ type: 'subscribe', departmentIds: [departments[c % departments.length]!.id] }));
      sockets.push(ws);
    }

    // Followers: one vehicle each, so at most one position a second reaches them; the
    // batch limit never holds them back, and what they see is the pipeline alone.
    const followed = await bench.database.query<{ id: string }>('SELECT id FROM vehicles ORDER BY id LIMIT $1', [FOLLOWERS]);
    const followerLatenciesMs: number[] = [];
    for (const { id } of followed) {
      const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/api/v1/live`, { headers: { authorization: `Bearer ${adminKey}` } });
      ws.on('message', (data: Buffer) => {
        const atMs = Date.now();
        const message = JSON.parse(data.toString()) as { type: string; positions?: Array<{ at: string }> };
        if (message.type !== 'positions' || !measuring) return;
        for (const p of message.positions!) followerLatenciesMs.push(atMs - Date.parse(p.at));
      });
      await once(ws, 'open');
      ws.send(JSON.stringify({ type: 'subscribe', vehicleIds: [id] }));
      sockets.push(ws);
    }

    // The baseline, measured in the same run: publish to a bare subscriber (broker only, no
    // database, no API), read the same way. On a loaded machine it shows what the machine adds.
    const baselineLatenciesMs: number[] = [];
    baseline = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clientId: 'bench-live-baseline' });
    await baseline.subscribeAsync(deviceIds.slice(0, BASELINE_DEVICES).map(telemetryTopic), { qos: 1 });
    baseline.on('message', (_topic, payload) => {
      const atMs = Date.now();
      if (measuring) baselineLatenciesMs.push(atMs - Date.parse((JSON.parse(payload.toString()) as { ts: string }).ts));
    });
    // This process's own event-loop delay: a receipt is stamped when the loop gets to it.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });

    publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clientId: 'bench-live-publisher' });
    const topics = deviceIds.map(telemetryTopic);
    const seq = new Array<number>(DEVICES).fill(0);
    let published = 0;
    let next = 0;
    const tickMs = 10;
    const perTick = (RATE_PER_S * tickMs) / 1000;
    const startedMs = Date.now();
    const endMs = startedMs + (WARMUP_S + MEASURE_S) * 1000;
    let measuredFromMs = 0;
    let serviceCpuFromMs: number | null = null;
    for (let tick = 0; Date.now() < endMs; tick++) {
      if (!measuring && Date.now() - startedMs >= WARMUP_S * 1000) {
        measuring = true;
        measuredFromMs = Date.now();
        loopDelay.enable();
        serviceCpuFromMs = cpuMsOf(service.pid);
      }
      for (let k = 0; k < perTick; k++) {
        const d = next++ % DEVICES;
        seq[d]!++;
        const reading = {
          ts: new Date().toISOString(),
          lat: -10.17 - (d % 100) * 1e-3,
          lon: 123.6 + seq[d]! * 1e-6,
          speedKmh: 30,
          ignition: true,
          seq: seq[d],
        };
        publisher.publish(topics[d]!, JSON.stringify(reading), { qos: 1 });
        published++;
      }
      const due = startedMs + (tick + 1) * tickMs;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
    }
    const measuredS = (Date.now() - measuredFromMs) / 1000;
    const serviceCpuToMs = cpuMsOf(service.pid);
    const load = loadavg()[0]!;
    await sleep(1000);
    measuring = false;
    const sorted = latenciesMs.sort((a, b) => a - b);
    const followerSorted = followerLatenciesMs.sort((a, b) => a - b);
    const baselineSorted = baselineLatenciesMs.sort((a, b) => a - b);
    loopDelay.disable();
    const loopP99Ms = loopDelay.percentile(99) / 1e6;
    const ms = (x: number) => `${Math.round(x)} ms`;
    const p99 = percentile(sorted, 0.99);
    const followerP99 = percentile(followerSorted, 0.99);
    const serviceCpuMs = serviceCpuFromMs !== null && serviceCpuToMs !== null ? serviceCpuToMs - serviceCpuFromMs : null;
    const achievedRate = published / ((endMs - startedMs) / 1000);
    return {
      id: 'live',
      title,
      status: 'ok',
      settings: [
        `${formatInt(DEVICES)} devices reporting once a second (${formatInt(RATE_PER_S)} msg/s target, QoS 1) to a private Mosquitto; ${formatInt(CLIENTS)} WebSocket clients, each subscribed to one of ${departments.length} departments`,
        `Armada as shipped: \`start\` (API and ingest worker in one process), compiled and run with node ${imageNodeOptions().join(' ')} like the Docker image, on PostgreSQL, its own process; ${WARMUP_S} s warm-up, then ${MEASURE_S} s measured`,
        'Latency: receipt time at the client minus the fix time, which the publisher sets to the moment it publishes (publisher and clients share this process and clock)',
      ],
      rows: [
        { measure: 'Publish rate achieved', value: `${formatInt(Math.round(achievedRate))} msg/s` },
        {
          measure: 'Positions received by all clients (measured window)',
          value: `${formatInt(received)} (${formatInt(Math.round(received / measuredS))}/s)`,
        },
        { measure: 'Department clients: latency p50', value: ms(percentile(sorted, 0.5)) },
        { measure: 'Department clients: latency p90', value: ms(percentile(sorted, 0.9)) },
        {
          measure: 'Department clients: latency p99',
          value: ms(p99),
          target: `< ${TARGET_DEPARTMENT_P99_MS} ms`,
          verdict: p99 < TARGET_DEPARTMENT_P99_MS ? 'PASS' : 'BELOW',
        },
        { measure: 'Department clients: latency max', value: ms(sorted[sorted.length - 1] ?? Number.NaN) },
        {
          measure: `Following one vehicle (${followed.length} more clients): latency p50 / max`,
          value: `${ms(percentile(followerSorted, 0.5))} / ${ms(followerSorted[followerSorted.length - 1] ?? Number.NaN)} (${formatInt(followerSorted.length)} positions)`,
        },
        {
          measure: 'Following one vehicle: latency p99',
          value: ms(followerP99),
          target: `< ${TARGET_FOLLOWER_P99_MS} ms`,
          verdict: followerP99 < TARGET_FOLLOWER_P99_MS ? 'PASS' : 'BELOW',
        },
        {
          measure: `Baseline, same run: publish to a bare MQTT subscriber (${BASELINE_DEVICES} devices) p50 / p99`,
          value: `${ms(percentile(baselineSorted, 0.5))} / ${ms(percentile(baselineSorted, 0.99))} (${formatInt(baselineSorted.length)} messages)`,
        },
        { measure: "The measuring process's event-loop delay p99", value: `${loopP99Ms.toFixed(0)} ms` },
        {
          measure: 'Service CPU time in the measured window (user + system)',
          value:
            serviceCpuMs === null
              ? 'not measured (no /proc)'
              : `${formatInt(serviceCpuMs)} ms in ${measuredS.toFixed(1)} s (${((serviceCpuMs / 1000 / measuredS) * 100).toFixed(0)} % of one core)`,
        },
        { measure: 'Machine load average (1 min) at the end of the window', value: load.toFixed(2) },
      ],
      notes: [
        `What the latency is made of: the ingest batch wait (INGEST_BATCH_WAIT_MS${process.env.INGEST_BATCH_WAIT_MS ? ` = ${process.env.INGEST_BATCH_WAIT_MS} ms here` : ', default'}) and commit, two broker hops, and the wait for the client's next batch (at most 10 batches a second per client, as the contract says).`,
        'The two targets, as decided for the live feed: a department client receives about 100 positions a second, a steady stream, and may be sent at most one batch every 100 ms, so a position waits for the next batch anything from 0 to 100 ms (50 on average): its p99 is about 99 ms of that wait plus the pipeline, hence < 200 ms. A client following single vehicles, whose vehicle reports once a second, is sent each position as soon as it arrives (the limit works on the leading edge): its latency is the pipeline alone, hence < 100 ms.',
        'Latency is wall-clock time and rises with the load of the machine: the load average above says how busy it was (a shared machine, other work running beside the benchmark).',
        ...(load > availableParallelism()
          ? [
              `This run's machine was overloaded: with a load of ${load.toFixed(0)} on ${availableParallelism()} cores a busy process gets about ${Math.round((100 * availableParallelism()) / load)} % of one core, and the service used ${serviceCpuMs === null ? '?' : Math.round(serviceCpuMs / 10 / measuredS)} %: it waited for the CPU, positions queued, and the latencies above measure the queue, not Armada. The baseline (broker only) shows what the machine alone added.`,
            ]
          : []),
      ],
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await publisher?.endAsync().catch(() => undefined);
    await baseline?.endAsync().catch(() => undefined);
    if (service.exitCode === null) {
      const exited = once(service, 'exit');
      service.kill('SIGTERM');
      const timer = setTimeout(() => service.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await bench.drop();
    await broker.stop();
    build.remove();
  }
}
