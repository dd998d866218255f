/**
 * What Mosquitto's shared subscriptions do with the messages of a member that is killed.
 *
 *   npx tsx bench/shared-subscriptions.ts [messages]
 *
 * A private Mosquitto (in-flight window 1000, queue 1,000,000, as in deploy/) and two
 * subscribers in one shared group, `$share/ingest/fleet/v1/devices/+/telemetry`, each
 * a persistent session (clean = false) that acknowledges like the ingest worker: a batch
 * of up to 100 messages, a simulated commit of 20 ms, then the PUBACKs. N QoS 1 messages
 * with unique ids are published; one member is killed (socket destroyed, no DISCONNECT)
 * while it holds unacknowledged messages. Three scenarios, each on a fresh broker:
 *
 *  (a) shared group, the killed member never comes back;
 *  (b) shared group, the killed member comes back (same client id, clean = false);
 *  (c) shared group, the killed member comes back with clean = true (a new session);
 *  (d) two plain persistent sessions, one per partition of the devices (exact topics),
 *      the killed one comes back — the design docs/scale-out.md chose.
 *
 * "Stored" is what some member committed and acknowledged; what a killed member had
 * received but not acknowledged is not stored. Lost = published − stored.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import * as mqttPacket from 'mqtt-packet';
import { BenchBroker, mosquittoAvailable, mosquittoVersion } from './mosquitto.js';
import { prepareMessages, publishAll } from './publisher.js';

const MESSAGES = Number(process.argv[2] ?? 10_000);
const DEVICES = 50;
const BATCH = 100;
const COMMIT_MS = 20;
const SHARED = '$share/ingest/fleet/v1/devices/+/telemetry';

const topicOf = (device: number) => `fleet/v1/devices/dev-${device}/telemetry`;

/** A subscriber that acknowledges like the ingest worker: batch, commit, then PUBACKs. */
class Member {
  readonly received = new Set<string>();
  private socket: net.Socket | undefined;
  private pending: Array<{ id: string; messageId: number | undefined }> = [];
  private committing = false;
  private timer: NodeJS.Timeout | undefined;
  private alive = false;

  constructor(
    readonly name: string,
    private readonly url: string,
    private readonly topics: string[],
    private readonly stored: Set<string>,
    private readonly storedTwice: { n: number },
    private readonly clean = false,
  ) {}

  private acked = 0;

  /** Received and not yet acknowledged. */
  get holding(): number {
    return this.received.size - this.acked;
  }

  async connect(): Promise<void> {
    const target = new URL(this.url);
    const socket = net.connect({ host: target.hostname, port: Number(target.port) });
    socket.setNoDelay(true);
    this.socket = socket;
    this.alive = true;
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const ready = new Promise<void>((resolve, reject) => {
      parser.on('packet', (p: mqttPacket.Packet) => {
        if (!this.alive || this.socket !== socket) return;
        if (p.cmd === 'connack') {
          if (p.returnCode !== 0) reject(new Error(`${this.name}: CONNACK ${p.returnCode}`));
          else
            socket.write(
              mqttPacket.generate({
                cmd: 'subscribe',
                messageId: 1,
                subscriptions: this.topics.map((topic) => ({ topic, qos: 1 as const })),
              }),
            );
        } else if (p.cmd === 'suback') {
          resolve();
        } else if (p.cmd === 'publish') {
          const id = JSON.parse(p.payload.toString()).id as string;
          this.received.add(id);
          this.pending.push({ id, messageId: p.messageId });
          this.schedule();
        }
      });
      socket.once('error', reject);
    });
    socket.on('data', (d: Buffer) => parser.parse(d));
    socket.on('error', () => undefined);
    socket.write(
      mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clientId: this.name,
        clean: this.clean,
        keepalive: 60,
      }),
    );
    await ready;
  }

  private schedule(): void {
    if (this.committing || this.pending.length === 0) return;
    if (this.pending.length >= BATCH) void this.commit();
    else
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        void this.commit();
      }, 50);
  }

  private async commit(): Promise<void> {
    if (this.committing || !this.alive) return;
    this.committing = true;
    const batch = this.pending.splice(0, BATCH);
    const socket = this.socket;
    await sleep(COMMIT_MS);
    this.committing = false;
    // Killed during the "commit": the process is gone, nothing of the batch was stored.
    if (!this.alive || this.socket !== socket) return;
    for (const m of batch) {
      if (this.stored.has(m.id)) this.storedTwice.n++;
      this.stored.add(m.id);
    }
    this.acked += batch.length;
    socket!.write(
      Buffer.concat(
        batch.filter((m) => m.messageId !== undefined).map((m) => mqttPacket.generate({ cmd: 'puback', messageId: m.messageId! })),
      ),
    );
    this.schedule();
  }

  /** SIGKILL of the member's process: no DISCONNECT, nothing held is stored. */
  kill(): number {
    const held = this.holding;
    this.alive = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
    this.committing = false;
    this.socket?.destroy();
    this.socket = undefined;
    return held;
  }

  close(): void {
    this.alive = false;
    clearTimeout(this.timer);
    this.socket?.end(mqttPacket.generate({ cmd: 'disconnect' }));
  }
}

interface Outcome {
  scenario: string;
  published: number;
  stored: number;
  lost: number;
  storedTwice: number;
  heldByKilledAtKill: number;
  receivedByKilledBeforeKill: number;
  receivedBySurvivor: number;
  receivedByRevived: number;
}

async function scenario(name: string, kind: 'shared' | 'partitioned', revive: boolean | 'clean'): Promise<Outcome> {
  const broker = await BenchBroker.start({ maxInflightMessages: 1000, maxQueuedMessages: 1_000_000, source: 'shared-subscriptions bench' });
  try {
    const stored = new Set<string>();
    const twice = { n: 0 };
    const tag = `${kind}-${revive === 'clean' ? 'clean' : revive ? 'revive' : 'dead'}`;
    const topicsFor = (half: number) =>
      kind === 'shared'
        ? [SHARED]
        : Array.from({ length: DEVICES }, (_, d) => d)
            .filter((d) => d % 2 === half)
            .map(topicOf);
    const a = new Member(`bench-${tag}-a`, broker.url, topicsFor(0), stored, twice);
    const b = new Member(`bench-${tag}-b`, broker.url, topicsFor(1), stored, twice);
    await Promise.all([a.connect(), b.connect()]);

    const messages = Array.from({ length: MESSAGES }, (_, i) => ({
      topic: topicOf(i % DEVICES),
      payload: JSON.stringify({ id: `m${i}`, ts: Date.now(), lat: -10.17, lon: 123.6 }),
    }));
    const prepared = prepareMessages(messages);
    // A small publisher window spreads the stream over time, so the kill falls mid-stream.
    const publishing = publishAll(broker.url, prepared, { windowSize: 20, clientId: `bench-pub-${tag}` });

    // Kill A once it has received a quarter of its share and holds unacknowledged messages.
    while (a.received.size < MESSAGES / 8 || a.holding === 0) await sleep(1);
    const receivedByKilledBeforeKill = a.received.size;
    const heldByKilledAtKill = a.kill();
    await publishing;

    let revived: Member | undefined;
    if (revive) {
      await sleep(1000);
      revived = new Member(a.name, broker.url, topicsFor(0), stored, twice, revive === 'clean');
      await revived.connect();
    }
    // Wait until nothing more arrives for two seconds.
    for (let last = -1; ; ) {
      await sleep(2000);
      const now = b.received.size + (revived?.received.size ?? 0);
      if (now === last) break;
      last = now;
    }
    b.close();
    revived?.close();
    return {
      scenario: name,
      published: MESSAGES,
      stored: stored.size,
      lost: MESSAGES - stored.size,
      storedTwice: twice.n,
      heldByKilledAtKill,
      receivedByKilledBeforeKill,
      receivedBySurvivor: b.received.size,
      receivedByRevived: revived?.received.size ?? 0,
    };
  } finally {
    await broker.stop();
  }
}

async function main(): Promise<void> {
  if (!mosquittoAvailable()) {
    console.error('bench/shared-subscriptions.ts needs the mosquitto binary (BENCH_MOSQUITTO, default /usr/sbin/mosquitto)');
    process.exit(2);
  }
  console.log(
    `Mosquitto ${mosquittoVersion()}, ${new Date().toISOString()}, ${MESSAGES} QoS 1 messages, ${DEVICES} devices, batches of ${BATCH}, commit ${COMMIT_MS} ms`,
  );
  const outcomes = [
    await scenario('(a) $share group, killed member never returns', 'shared', false),
    await scenario('(b) $share group, killed member returns (same id, clean=false)', 'shared', true),
    await scenario('(c) $share group, killed member returns with clean=true (a new session)', 'shared', 'clean'),
    await scenario('(d) partitioned exact topics, killed member returns', 'partitioned', true),
  ];
  for (const o of outcomes) console.log(JSON.stringify(o));
  console.log('');
  console.log('| scenario | published | stored | lost | held unacked by the killed member | received: survivor / revived |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const o of outcomes) {
    console.log(
      `| ${o.scenario} | ${o.published} | ${o.stored} | **${o.lost}** | ${o.heldByKilledAtKill} | ${o.receivedBySurvivor} / ${o.receivedByRevived} |`,
    );
  }
}

await main();
