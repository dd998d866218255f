/**
 * A lean MQTT 3.1.1 QoS 1 publisher over one socket, for the batch and load modes: it
 * keeps a window of PUBLISH packets unacknowledged and refills it as PUBACKs arrive.
 * Written with mqtt-packet rather than MQTT.js because MQTT.js spends more CPU per
 * message than the broker does, and a load generator should not be the bottleneck.
 * No reconnection: a lost connection fails the run, which says how far it got.
 */
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import * as mqttPacket from 'mqtt-packet';

export interface QosPublisherOptions {
  url: string;
  clientId: string;
  /** Default: the URL's user name and password. */
  username?: string;
  password?: string;
  /** Most PUBLISH packets awaiting their PUBACK. Default 100. */
  maxInFlight?: number;
  keepaliveS?: number;
}

const CONNACK_REASONS: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'client id rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

export class QosPublisher {
  /** Messages the broker has acknowledged. */
  acked = 0;
  sent = 0;
  private readonly inFlight = new Uint8Array(65536);
  private inFlightCount = 0;
  private nextId = 1;
  private failure: Error | null = null;
  private waiters: Array<() => void> = [];
  private readonly maxInFlight: number;
  private keepalive: NodeJS.Timeout | undefined;
  private closing = false;

  private constructor(
    private readonly socket: net.Socket,
    private readonly label: string,
    maxInFlight: number,
  ) {
    this.maxInFlight = Math.min(65_000, Math.max(1, maxInFlight));
  }

  static async connect(opts: QosPublisherOptions): Promise<QosPublisher> {
    const url = new URL(opts.url);
    const secure = url.protocol === 'mqtts:' || url.protocol === 'tls:';
    if (!secure && url.protocol !== 'mqtt:' && url.protocol !== 'tcp:')
      throw new Error(`${opts.url}: only mqtt://, mqtts://, tcp:// and tls:// are supported here`);
    const port = Number(url.port || (secure ? 8883 : 1883));
    const socket = secure ? tls.connect({ host: url.hostname, port, servername: url.hostname }) : net.connect({ host: url.hostname, port });
    socket.setNoDelay(true);
    const label = `${opts.clientId}@${url.host}`;
    try {
      await once(socket, secure ? 'secureConnect' : 'connect');
    } catch (err) {
      throw new Error(`cannot reach the broker at ${url.host}: ${(err as Error).message}`);
    }
    const publisher = new QosPublisher(socket, label, opts.maxInFlight ?? 100);
    const username = opts.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
    const password = opts.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
    await publisher.handshake(opts.clientId, username, password, opts.keepaliveS ?? 60);
    return publisher;
  }

  private handshake(clientId: string, username: string | undefined, password: string | undefined, keepaliveS: number): Promise<void> {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    return new Promise<void>((resolve, reject) => {
      let connected = false;
      const fail = (err: Error) => {
        if (!this.failure) this.failure = err;
        clearInterval(this.keepalive);
        for (const w of this.waiters.splice(0)) w();
        if (!connected) reject(err);
      };
      parser.on('packet', (packet: mqttPacket.Packet) => {
        if (packet.cmd === 'connack') {
          const code = packet.returnCode ?? 0;
          if (code !== 0) {
            fail(new Error(`the broker refused ${clientId}: ${CONNACK_REASONS[code] ?? `CONNACK ${code}`}`));
            this.socket.destroy();
            return;
          }
          connected = true;
          this.keepalive = setInterval(() => this.socket.write(mqttPacket.generate({ cmd: 'pingreq' })), (keepaliveS * 1000) / 2);
          this.keepalive.unref();
          resolve();
          return;
        }
        if (packet.cmd === 'puback' && packet.messageId !== undefined && this.inFlight[packet.messageId] === 1) {
          this.inFlight[packet.messageId] = 0;
          this.inFlightCount--;
          this.acked++;
          // Waiters re-check their own condition (a free slot, or none in flight).
          for (const w of this.waiters.splice(0)) w();
        }
      });
      parser.on('error', (err: Error) => fail(new Error(`${this.label}: MQTT protocol error: ${err.message}`)));
      this.socket.on('data', (data: Buffer) => parser.parse(data));
      this.socket.on('error', (err) => fail(new Error(`${this.label}: ${err.message}`)));
      this.socket.on('close', () => {
        if (!this.closing) fail(new Error(`${this.label}: the broker closed the connection after ${this.acked} acknowledged messages`));
      });
      this.socket.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clientId,
          clean: true,
          keepalive: keepaliveS,
          ...(username === undefined ? {} : { username }),
          ...(password === undefined ? {} : { password: Buffer.from(password) }),
        }),
      );
    });
  }

  /** Sends one QoS 1 message; waits first when the window is full or the socket is backed up. */
  async publish(topic: string, payload: string | Buffer): Promise<void> {
    while (this.inFlightCount >= this.maxInFlight && !this.failure) await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.failure) throw this.failure;
    let id = this.nextId;
    // Ids wrap at 65535: never reuse one whose PUBACK is still due.
    while (this.inFlight[id] === 1) id = (id % 65535) + 1;
    this.nextId = (id % 65535) + 1;
    this.inFlight[id] = 1;
    this.inFlightCount++;
    this.sent++;
    const packet = mqttPacket.generate({
      cmd: 'publish',
      topic,
      payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
      qos: 1,
      messageId: id,
      dup: false,
      retain: false,
    });
    if (!this.socket.write(packet)) await once(this.socket, 'drain');
  }

  /** Resolves when every message sent so far is acknowledged. */
  async flush(): Promise<void> {
    while (this.inFlightCount > 0 && !this.failure) await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.failure) throw this.failure;
  }

  get error(): Error | null {
    return this.failure;
  }

  async end(): Promise<void> {
    this.closing = true;
    clearInterval(this.keepalive);
    if (this.socket.destroyed) return;
    this.socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
    await Promise.race([once(this.socket, 'close'), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    this.socket.destroy();
  }
}
