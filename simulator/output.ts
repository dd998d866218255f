/**
 * Where a run's messages and truth go: JSON Lines files (written with backpressure, so
 * a month of a large fleet streams through a little memory) and MQTT, one connection per
 * device that has a secret, or a few shared connections for the rest.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { SimMessage } from './fleet/index.js';
import { QosPublisher } from './mqtt-publisher.js';
import { hash32 } from './random.js';

/** One line of --out: what was published where, so a file can be replayed. */
export function messageLine(m: SimMessage): string {
  return `{"topic":${JSON.stringify(m.topic)},"payload":${JSON.stringify(m.payload)}}\n`;
}

const BUFFER_CHARS = 1 << 20;

export class JsonlWriter {
  private buffer: string[] = [];
  private bufferedChars = 0;
  private failure: Error | null = null;

  private constructor(
    private readonly stream: WriteStream,
    readonly path: string,
  ) {
    stream.on('error', (err) => {
      this.failure = err;
    });
  }

  static async open(path: string): Promise<JsonlWriter> {
    const stream = createWriteStream(path, { flags: 'w' });
    await Promise.race([
      once(stream, 'open'),
      once(stream, 'error').then(([err]) => Promise.reject(new Error(`cannot write ${path}: ${(err as Error).message}`))),
    ]);
    return new JsonlWriter(stream, path);
  }

  /** Buffers the line; returns a promise only when the buffer went to disk and the disk is behind. */
  write(line: string): Promise<void> | undefined {
    if (this.failure) throw new Error(`cannot write ${this.path}: ${this.failure.message}`);
    this.buffer.push(line);
    this.bufferedChars += line.length;
    return this.bufferedChars >= BUFFER_CHARS ? this.spill() : undefined;
  }

  private async spill(): Promise<void> {
    const chunk = this.buffer.join('');
    this.buffer = [];
    this.bufferedChars = 0;
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    if (this.bufferedChars > 0) await this.spill();
    await new Promise<void>((resolve, reject) => this.stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    if (this.failure) throw new Error(`cannot write ${this.path}: ${this.failure.message}`);
  }
}

export interface MqttSink {
  publish(message: SimMessage): Promise<void>;
  /** Waits until the broker has acknowledged everything sent. */
  flush(): Promise<void>;
  end(): Promise<void>;
  /** Messages the broker acknowledged (a backlog array is one message). */
  ackedMessages(): number;
  sentMessages(): number;
}

export async function openMqttSink(
  url: string,
  devices: ReadonlyArray<{ deviceId: string; secret?: string }>,
  opts: { sharedConnections: number; clientIdPrefix: string; maxInFlight?: number },
): Promise<MqttSink> {
  const byDevice = new Map<string, QosPublisher>();
  const all: QosPublisher[] = [];
  try {
    const shared: QosPublisher[] = [];
    const anonymous = devices.filter((d) => d.secret === undefined);
    const sharedCount = Math.min(opts.sharedConnections, anonymous.length);
    for (let i = 0; i < sharedCount; i++) {
      const p = await QosPublisher.connect({ url, clientId: `${opts.clientIdPrefix}-${i + 1}`, maxInFlight: opts.maxInFlight ?? 200 });
      shared.push(p);
      all.push(p);
    }
    for (const d of anonymous) byDevice.set(d.deviceId, shared[hash32(d.deviceId) % sharedCount]!);
    const own = devices.filter((d) => d.secret !== undefined);
    // Connect in small waves: thousands of simultaneous handshakes upset some brokers.
    for (let i = 0; i < own.length; i += 50) {
      const wave = own.slice(i, i + 50);
      const publishers = await Promise.all(
        wave.map((d) =>
          QosPublisher.connect({
            url,
            clientId: `armada-sim-${d.deviceId.replace('/', '-')}`,
            username: d.deviceId,
            password: d.secret!,
            maxInFlight: opts.maxInFlight ?? 100,
          }).catch((err: Error) => {
            throw new Error(`device ${d.deviceId}: ${err.message}`);
          }),
        ),
      );
      wave.forEach((d, j) => {
        byDevice.set(d.deviceId, publishers[j]!);
        all.push(publishers[j]!);
      });
    }
  } catch (err) {
    await Promise.all(all.map((p) => p.end()));
    throw err;
  }
  return {
    async publish(message) {
      const publisher = byDevice.get(message.deviceId);
      if (!publisher) throw new Error(`no MQTT connection for device ${message.deviceId}`);
      await publisher.publish(message.topic, JSON.stringify(message.payload));
    },
    async flush() {
      await Promise.all(all.map((p) => p.flush()));
    },
    async end() {
      await Promise.all(all.map((p) => p.end()));
    },
    ackedMessages: () => all.reduce((sum, p) => sum + p.acked, 0),
    sentMessages: () => all.reduce((sum, p) => sum + p.sent, 0),
  };
}
