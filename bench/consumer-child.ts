/**
 * The receiving side of one benchmark phase, in a process of its own (forked by
 * bench/ingest.ts compiled and with the Dockerfile's node options, as the image runs the service):
 *
 *  - raw: a bare MQTT session that acknowledges every QoS 1 message as soon as it is
 *    parsed, and does nothing else. The broker's delivery rate, with no work behind it.
 *  - worker: Armada's ingest worker exactly as it ships, started through startServices
 *    with the worker role only; a message counts once its batch is committed.
 *
 * It reports over IPC when it is subscribed, how far it has got, and, once it has
 * handled `expected` messages, when that happened and how much memory it used.
 */
import net from 'node:net';
import * as mqttPacket from 'mqtt-packet';
import { MqttFramer } from '../src/ingest/mqtt-frames.js';
import { TELEMETRY_SUBSCRIPTION } from '../src/domain/topics.js';
import {
  bytesToMb,
  type ChildMessage,
  type ConsumerArgs,
  type ConsumerResult,
  type ParentMessage,
  type WorkerFigures,
} from './protocol.js';

const MEMORY_SAMPLE_MS = 50;
const WORKER_POLL_MS = 10;
const PROGRESS_MS = 250;

function send(message: ChildMessage): void {
  process.send?.(message);
}

/** Counts handled messages and notes when 10 %, 90 % and all of them were reached. */
class Progress {
  handled = 0;
  at10PercentMs = 0;
  at90PercentMs = 0;
  lastAtMs = 0;
  private readonly mark10: number;
  private readonly mark90: number;

  constructor(
    private readonly expected: number,
    private readonly onComplete: () => void,
  ) {
    this.mark10 = Math.ceil(expected * 0.1);
    this.mark90 = Math.ceil(expected * 0.9);
  }

  set(handled: number): void {
    if (handled === this.handled) return;
    this.handled = handled;
    const nowMs = Date.now();
    if (this.at10PercentMs === 0 && handled >= this.mark10) this.at10PercentMs = nowMs;
    if (this.at90PercentMs === 0 && handled >= this.mark90) this.at90PercentMs = nowMs;
    if (this.lastAtMs === 0 && handled >= this.expected) {
      this.lastAtMs = nowMs;
      this.onComplete();
    }
  }
}

/** Peak memory, sampled: rss is what the operating system has to give the process. */
class MemoryWatch {
  peakRssBytes = 0;
  peakHeapUsedBytes = 0;
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.sample();
    this.timer = setInterval(() => this.sample(), MEMORY_SAMPLE_MS);
  }

  sample(): void {
    const usage = process.memoryUsage();
    this.peakRssBytes = Math.max(this.peakRssBytes, usage.rss);
    this.peakHeapUsedBytes = Math.max(this.peakHeapUsedBytes, usage.heapUsed);
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}

interface RunningConsumer {
  workerFigures(): WorkerFigures | undefined;
  close(): Promise<void>;
}

async function startRaw(args: ConsumerArgs, progress: Progress): Promise<RunningConsumer> {
  const target = new URL(args.mqttUrl);
  const socket = net.connect({ host: target.hostname, port: Number(target.port) });
  socket.setNoDelay(true);
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  let handled = 0;
  let acks: Buffer[] = [];
  let subscribed = false;

  await new Promise<void>((resolve, reject) => {
    socket.on('error', (err) => {
      if (subscribed) send({ type: 'failed', error: `raw subscriber: ${err.message}` });
      else reject(err);
    });
    // PUBLISH is cut from the stream as the worker's session does (src/ingest/mqtt-frames.ts),
    // so both phases receive alike; the few other packets go to mqtt-packet.
    const framer = new MqttFramer(
      (publish) => {
        if (publish.qos === 1 && publish.messageId !== undefined) {
          // PUBACK is four fixed bytes; building it by hand keeps the baseline's own cost minimal.
          acks.push(Buffer.from([0x40, 0x02, publish.messageId >> 8, publish.messageId & 0xff]));
        }
        handled++;
      },
      (bytes) => parser.parse(bytes),
    );
    parser.on('packet', (packet: mqttPacket.Packet) => {
      switch (packet.cmd) {
        case 'connack':
          if (packet.returnCode !== 0) {
            reject(new Error(`broker refused the raw subscriber (CONNACK ${packet.returnCode})`));
            return;
          }
          socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: TELEMETRY_SUBSCRIPTION, qos: 1 }] }));
          return;
        case 'suback':
          subscribed = true;
          resolve();
          return;
        default:
          return;
      }
    });
    socket.on('data', (data: Buffer) => {
      framer.push(data);
      // Every message parsed from this chunk is acknowledged before the next chunk is read.
      if (acks.length > 0) {
        socket.write(acks.length === 1 ? acks[0]! : Buffer.concat(acks));
        acks = [];
      }
      progress.set(handled);
    });
    socket.once('connect', () =>
      socket.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clientId: 'armada-bench-raw',
          clean: true,
          keepalive: 60,
        }),
      ),
    );
  });

  return {
    workerFigures: () => undefined,
    async close() {
      socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
    },
  };
}

async function startWorker(args: ConsumerArgs, progress: Progress): Promise<RunningConsumer> {
  if (!args.databaseUrl) throw new Error('worker mode needs a database URL');
  // Imported here, not at the top: the raw subscriber must not carry the service's modules
  // (fastify, drizzle, PGlite...) in its memory, or its figure would not be a baseline.
  const [{ loadConfig }, { createLogger }, { startServices }] = await Promise.all([
    import('../src/config.js'),
    import('../src/logger.js'),
    import('../src/runtime.js'),
  ]);
  // Only these variables: the run must not pick up the developer's own settings by accident,
  // except the two batch knobs, which are there to be experimented with.
  const config = loadConfig({
    DATABASE_URL: args.databaseUrl,
    MQTT_URL: args.mqttUrl,
    LOG_LEVEL: 'warn',
    WORKER_ID: 'bench',
    ...(process.env.INGEST_BATCH_SIZE ? { INGEST_BATCH_SIZE: process.env.INGEST_BATCH_SIZE } : {}),
    ...(process.env.INGEST_BATCH_WAIT_MS ? { INGEST_BATCH_WAIT_MS: process.env.INGEST_BATCH_WAIT_MS } : {}),
    ...(process.env.INGEST_CONCURRENCY ? { INGEST_CONCURRENCY: process.env.INGEST_CONCURRENCY } : {}),
    ...(process.env.INGEST_STATE_FLUSH_MS ? { INGEST_STATE_FLUSH_MS: process.env.INGEST_STATE_FLUSH_MS } : {}),
  });
  const logger = createLogger(config.logLevel);
  const services = await startServices(config, { api: false, worker: true }, { logger });
  const worker = services.ingest;
  if (!worker) {
    await services.close();
    throw new Error('startServices started no ingest worker');
  }
  const counters = worker.counters;
  // The worker counts a message only after its batch has committed: polling its counters
  // times the commit to within WORKER_POLL_MS without loading the database with count(*).
  const poll = setInterval(() => progress.set(counters.stored + counters.duplicates + counters.quarantined), WORKER_POLL_MS);

  return {
    workerFigures: () => ({ ...counters, batchSize: config.ingestBatchSize, batchWaitMs: config.ingestBatchWaitMs }),
    async close() {
      clearInterval(poll);
      await services.close();
    },
  };
}

function cpuMsSince(start: NodeJS.CpuUsage | undefined): number {
  if (!start) return 0;
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '') as ConsumerArgs;
  let consumer: RunningConsumer | undefined;
  // From the start, so the peak covers start-up (migration check, device cache) too.
  const memory = new MemoryWatch();
  let readyRssBytes = 0;
  let readyCpu: NodeJS.CpuUsage | undefined;

  const progress = new Progress(args.expected, () => {
    memory.stop();
    const result: ConsumerResult = {
      handled: progress.handled,
      at10PercentMs: progress.at10PercentMs,
      at90PercentMs: progress.at90PercentMs,
      lastAtMs: progress.lastAtMs,
      readyRssMb: bytesToMb(readyRssBytes),
      peakRssMb: bytesToMb(memory.peakRssBytes),
      peakHeapUsedMb: bytesToMb(memory.peakHeapUsedBytes),
      cpuMs: cpuMsSince(readyCpu),
      worker: consumer?.workerFigures(),
    };
    send({ type: 'done', result });
  });

  let closing = false;
  const shutDown = async (code: number) => {
    if (closing) return;
    closing = true;
    clearInterval(reporter);
    memory.stop();
    await consumer?.close().catch(() => undefined);
    process.exit(code);
  };
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'stop') void shutDown(0);
  });
  // The parent went away (crashed or was interrupted): do not linger.
  process.on('disconnect', () => void shutDown(1));
  process.on('SIGINT', () => void shutDown(130));

  const reporter = setInterval(() => send({ type: 'progress', handled: progress.handled }), PROGRESS_MS);
  try {
    consumer = args.mode === 'raw' ? await startRaw(args, progress) : await startWorker(args, progress);
  } catch (err) {
    send({ type: 'failed', error: (err as Error).message });
    await shutDown(1);
    return;
  }
  readyRssBytes = process.memoryUsage().rss;
  readyCpu = process.cpuUsage();
  send({ type: 'ready', rssMb: bytesToMb(readyRssBytes) });
}

await main();
