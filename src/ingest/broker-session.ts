/**
 * The ingest worker's MQTT session, spoken directly: PUBLISH packets are cut from the
 * stream and decoded by ./mqtt-frames.ts, the two packets sent by the thousand are encoded
 * by ./mqtt-encode.ts, and mqtt-packet handles the rest.
 *
 * Why not MQTT.js: its `handleMessage` acknowledges one message at a time and reads
 * the next packet only after that, so acknowledging after commit gives one commit per
 * message (about 2,000 msg/s measured here). Here many QoS 1 messages stay
 * in flight, the worker commits them as a batch, and only then are their PUBACKs sent.
 *
 * The session is persistent (clean = false, a stable client id): messages that were
 * delivered but not acknowledged when a connection dropped are delivered again after
 * the reconnect. Acknowledgements are tagged with the connection they belong to; an
 * acknowledgement for a connection that is gone is dropped, because the broker will
 * redeliver that message on the new one.
 *
 * Subscriptions can change while the session runs (`subscribe`, `unsubscribe`: a
 * partitioned worker adds the topics of newly registered devices). The current set is
 * sent again after every reconnect, in packets of at most SUBSCRIBE_CHUNK topics; with
 * clean = false the broker remembers them anyway, but a session it expired or lost
 * would otherwise come back deaf. An empty set is allowed: the session is ready at
 * CONNACK (a worker of several that owns no device yet).
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import * as mqttPacket from 'mqtt-packet';
import type { Logger } from 'pino';
import { encodePublishQos0, encodePubacks } from './mqtt-encode.js';
import { MqttFrameError, MqttFramer, type PublishFrame } from './mqtt-frames.js';

export interface SessionMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  messageId: number | undefined;
  /** Which connection delivered it; acknowledgements go back only on that connection. */
  connection: number;
  receivedAtMs: number;
}

export interface BrokerSessionOptions {
  url: string;
  clientId: string;
  /** The initial subscriptions (QoS 1); may be empty. */
  subscriptions: readonly string[];
  /** false: a persistent session, so unacknowledged messages survive a reconnect. */
  clean: boolean;
  keepaliveS?: number;
  logger: Logger;
  onMessage: (message: SessionMessage) => void;
  /** Called on every successful (re)connection, after the subscriptions are granted. */
  onReady?: () => void;
}

const MIN_BACKOFF_MS = 250;
/** Topics per SUBSCRIBE / UNSUBSCRIBE packet. */
export const SUBSCRIBE_CHUNK = 500;

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}
const MAX_BACKOFF_MS = 10_000;

export class BrokerSession extends EventEmitter {
  private socket: net.Socket | undefined;
  private connection = 0;
  private ready = false;
  /** This connection's CONNACK arrived: its subscriptions are being (or have been) sent. */
  private connacked = false;
  private closing = false;
  private backoffMs = MIN_BACKOFF_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private awaitingPong = false;
  private nextMessageId = 1;
  private outgoing: Buffer[] = [];
  private reconnectGate: Promise<unknown> | undefined;
  private readonly target: URL;
  private readonly keepaliveS: number;
  private readonly topics: Set<string>;
  /** SUBSCRIBEs of this connection's start still waiting for their SUBACK. */
  private readonly initialAcks = new Set<number>();
  /** Live SUBSCRIBE / UNSUBSCRIBE packets waiting for their answer, by message id. */
  private readonly answers = new Map<number, Waiter>();
  /** Changes sent on a connection that dropped: the reconnect re-sends the set, then they are done. */
  private untilReady: Waiter[] = [];

  constructor(private readonly options: BrokerSessionOptions) {
    super();
    this.target = new URL(options.url);
    this.keepaliveS = options.keepaliveS ?? 30;
    this.topics = new Set(options.subscriptions);
  }

  /** The topics subscribed (or to be subscribed at the next connection). */
  get subscriptions(): string[] {
    return [...this.topics];
  }

  /**
   * Adds subscriptions (QoS 1). Resolves once the broker granted them: on this
   * connection, or, if it drops first, after the reconnect has subscribed again.
   */
  subscribe(topics: readonly string[]): Promise<void> {
    const added = topics.filter((t) => !this.topics.has(t));
    added.forEach((t) => this.topics.add(t));
    if (added.length === 0) return Promise.resolve();
    return this.change(added, (messageId, chunk) =>
      mqttPacket.generate({ cmd: 'subscribe', messageId, subscriptions: chunk.map((topic) => ({ topic, qos: 1 as const })) }),
    );
  }

  /**
   * Removes subscriptions; resolves once the broker confirmed (or the next connection is
   * ready). `alsoUnknown` sends the topics this object never subscribed to as well: a
   * persistent session may remember subscriptions an earlier run made (another worker
   * count); those are only forgotten if asked on a live connection.
   */
  unsubscribe(topics: readonly string[], options: { alsoUnknown?: boolean } = {}): Promise<void> {
    const removed = options.alsoUnknown ? [...topics] : topics.filter((t) => this.topics.has(t));
    removed.forEach((t) => this.topics.delete(t));
    if (removed.length === 0) return Promise.resolve();
    return this.change(removed, (messageId, chunk) => mqttPacket.generate({ cmd: 'unsubscribe', messageId, unsubscriptions: chunk }));
  }

  private change(topics: string[], packet: (messageId: number, chunk: string[]) => Buffer): Promise<void> {
    if (this.closing) return Promise.reject(new Error('mqtt session closed'));
    if (!this.socket || !this.connacked) {
      // Not connected yet: the next CONNACK subscribes to the whole current set.
      return new Promise((resolve, reject) => this.untilReady.push({ resolve, reject }));
    }
    const parts: Array<Promise<void>> = [];
    for (let i = 0; i < topics.length; i += SUBSCRIBE_CHUNK) {
      const messageId = this.allocateMessageId();
      parts.push(new Promise((resolve, reject) => this.answers.set(messageId, { resolve, reject })));
      this.enqueue(packet(messageId, topics.slice(i, i + SUBSCRIBE_CHUNK)));
    }
    return Promise.all(parts).then(() => undefined);
  }

  private isRefused(granted: ReadonlyArray<unknown>): boolean {
    return granted.some((g) => g === 0x80 || (typeof g === 'object' && g !== null && (g as { qos?: number }).qos === 0x80));
  }

  private becomeReady(): void {
    this.ready = true;
    this.backoffMs = MIN_BACKOFF_MS;
    this.startPings();
    this.options.logger.info(
      { broker: this.describeTarget(), clientId: this.options.clientId, subscriptions: this.topics.size },
      'mqtt session ready',
    );
    this.untilReady.splice(0).forEach((w) => w.resolve());
    this.emit('ready');
    this.options.onReady?.();
  }

  get isReady(): boolean {
    return this.ready;
  }

  start(): void {
    this.closing = false;
    this.connect();
  }

  /** Resolves once connected and subscribed, or rejects after `timeoutMs`. */
  waitReady(timeoutMs = 30_000): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('ready', onReady);
        reject(new Error(`MQTT broker at ${this.describeTarget()} not reachable within ${timeoutMs} ms`));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.once('ready', onReady);
    });
  }

  /**
   * Sends the PUBACKs of these messages; those from an earlier connection are skipped.
   * Not gated on `ready`: a resumed session gets its queued messages right after CONNACK,
   * before the SUBACKs, and a batch of them can commit first. Their PUBACKs must still go
   * out, or the broker keeps them in flight for the whole connection and, once its
   * in-flight window is full of them, delivers nothing more.
   */
  acknowledge(messages: readonly SessionMessage[]): void {
    if (!this.socket || !this.connacked) return;
    const ids: number[] = [];
    for (const m of messages) {
      if (m.qos === 1 && m.messageId !== undefined && m.connection === this.connection) ids.push(m.messageId);
    }
    if (ids.length > 0) this.enqueue(encodePubacks(ids));
  }

  /** Fire-and-forget publish (QoS 0); silently skipped while disconnected. */
  publish(topic: string, payload: string | Buffer): boolean {
    if (!this.socket || !this.ready) return false;
    this.enqueue(encodePublishQos0(topic, payload));
    return true;
  }

  /**
   * Packets written in the same tick leave in one socket write: a committed batch means
   * hundreds of PUBACKs and live positions, and a write each was a sixth of the worker's CPU.
   */
  private enqueue(packet: Buffer): void {
    this.outgoing.push(packet);
    if (this.outgoing.length === 1) setImmediate(() => this.flushOutgoing());
  }

  private flushOutgoing(): void {
    const packets = this.outgoing;
    this.outgoing = [];
    // After close() has ended the socket nothing more may be written ("write after end").
    if (packets.length > 0 && this.socket && !this.socket.destroyed && !this.socket.writableEnded) {
      this.socket.write(packets.length === 1 ? packets[0]! : Buffer.concat(packets));
    }
  }

  /** Stops reading from the broker (TCP backpressure) until resume(). */
  pause(): void {
    this.socket?.pause();
  }

  resume(): void {
    this.socket?.resume();
  }

  /**
   * Drops the connection and reconnects: everything unacknowledged will be redelivered.
   * With `until`, the new connection waits for it (e.g. for the database to answer
   * again), so the broker keeps the messages instead of handing them to a worker that
   * cannot store them.
   */
  reconnect(reason: string, until?: Promise<unknown>): void {
    if (until) this.reconnectGate = until;
    if (!this.socket) return;
    this.options.logger.warn({ reason }, 'mqtt session reconnecting to force redelivery');
    // PUBACKs queued in this tick (messages of the same batch that did commit) go out first.
    this.flushOutgoing();
    this.socket.destroy();
  }

  async close(): Promise<void> {
    this.closing = true;
    const closed = new Error('mqtt session closed');
    this.untilReady.splice(0).forEach((w) => w.reject(closed));
    for (const w of this.answers.values()) w.reject(closed);
    this.answers.clear();
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    const socket = this.socket;
    if (!socket || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      // PUBACKs of batches committed in this tick are still queued: they go out first.
      if (this.ready) socket.end(Buffer.concat([...this.outgoing.splice(0), mqttPacket.generate({ cmd: 'disconnect' })]));
      else socket.destroy();
      setTimeout(() => socket.destroy(), 2000).unref();
    });
  }

  private describeTarget(): string {
    return `${this.target.protocol}//${this.target.host}`;
  }

  private connect(): void {
    const connection = ++this.connection;
    this.connacked = false;
    const port = Number(this.target.port) || (this.isTls() ? 8883 : 1883);
    const host = this.target.hostname || '127.0.0.1';
    const socket = this.isTls() ? tls.connect({ host, port, servername: host }) : net.connect({ host, port });
    socket.setNoDelay(true);
    this.socket = socket;
    const parser = mqttPacket.parser({ protocolVersion: 4 });

    socket.once(this.isTls() ? 'secureConnect' : 'connect', () => {
      socket.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clientId: this.options.clientId,
          clean: this.options.clean,
          keepalive: this.keepaliveS,
          ...(this.target.username ? { username: decodeURIComponent(this.target.username) } : {}),
          ...(this.target.password ? { password: Buffer.from(decodeURIComponent(this.target.password)) } : {}),
        }),
      );
    });
    // PUBLISH, one a reading, is decoded by the framer; the few other packets by mqtt-packet.
    const framer = new MqttFramer(
      (frame) => this.onPublish(connection, frame),
      (bytes) => parser.parse(bytes),
    );
    socket.on('data', (data: Buffer) => {
      try {
        framer.push(data);
      } catch (err) {
        if (!(err instanceof MqttFrameError)) throw err;
        this.options.logger.error({ err: err.message }, 'mqtt protocol error; reconnecting');
        socket.destroy();
      }
    });
    parser.on('packet', (packet: mqttPacket.Packet) => this.onPacket(connection, packet));
    parser.on('error', (err: Error) => {
      this.options.logger.error({ err: err.message }, 'mqtt protocol error; reconnecting');
      socket.destroy();
    });
    socket.on('error', (err) => {
      this.options.logger.warn({ err: err.message, broker: this.describeTarget() }, 'mqtt connection error');
    });
    socket.on('close', () => {
      if (this.socket === socket) {
        this.socket = undefined;
        this.outgoing = [];
        this.ready = false;
        this.connacked = false;
        this.initialAcks.clear();
        // Changes in flight on this connection: the reconnect re-sends the whole set.
        this.untilReady.push(...this.answers.values());
        this.answers.clear();
        clearInterval(this.pingTimer);
        this.emit('disconnected');
      }
      if (!this.closing) this.scheduleReconnect();
    });
  }

  private isTls(): boolean {
    return this.target.protocol === 'mqtts:' || this.target.protocol === 'tls:';
  }

  private scheduleReconnect(): void {
    clearTimeout(this.reconnectTimer);
    const gate = this.reconnectGate;
    if (gate) {
      this.reconnectGate = undefined;
      gate.then(
        () => !this.closing && this.scheduleReconnect(),
        () => !this.closing && this.scheduleReconnect(),
      );
      return;
    }
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private onPacket(connection: number, packet: mqttPacket.Packet): void {
    if (connection !== this.connection) return;
    switch (packet.cmd) {
      case 'connack': {
        if (packet.returnCode !== 0) {
          this.options.logger.error({ returnCode: packet.returnCode, broker: this.describeTarget() }, 'mqtt broker refused the connection');
          this.socket?.destroy();
          return;
        }
        this.connacked = true;
        const topics = [...this.topics];
        if (topics.length === 0) {
          this.becomeReady();
          return;
        }
        const packets: Buffer[] = [];
        for (let i = 0; i < topics.length; i += SUBSCRIBE_CHUNK) {
          const messageId = this.allocateMessageId();
          this.initialAcks.add(messageId);
          packets.push(
            mqttPacket.generate({
              cmd: 'subscribe',
              messageId,
              subscriptions: topics.slice(i, i + SUBSCRIBE_CHUNK).map((topic) => ({ topic, qos: 1 as const })),
            }),
          );
        }
        this.socket?.write(Buffer.concat(packets));
        return;
      }
      case 'suback': {
        const messageId = packet.messageId ?? -1;
        if (this.isRefused(packet.granted)) {
          this.options.logger.error({ subscriptions: this.topics.size }, 'mqtt broker refused a subscription');
          this.socket?.destroy();
          return;
        }
        if (this.initialAcks.delete(messageId)) {
          if (this.initialAcks.size === 0 && !this.ready) this.becomeReady();
          return;
        }
        this.answers.get(messageId)?.resolve();
        this.answers.delete(messageId);
        return;
      }
      case 'unsuback': {
        const messageId = packet.messageId ?? -1;
        this.answers.get(messageId)?.resolve();
        this.answers.delete(messageId);
        return;
      }
      case 'pingresp':
        this.awaitingPong = false;
        return;
      default:
        return;
    }
  }

  private onPublish(connection: number, frame: PublishFrame): void {
    if (connection !== this.connection) return;
    this.options.onMessage({
      topic: frame.topic,
      payload: frame.payload,
      qos: frame.qos,
      messageId: frame.messageId,
      connection,
      receivedAtMs: Date.now(),
    });
  }

  private startPings(): void {
    clearInterval(this.pingTimer);
    this.awaitingPong = false;
    this.pingTimer = setInterval(
      () => {
        if (this.awaitingPong) {
          this.options.logger.warn('mqtt broker stopped answering pings; reconnecting');
          this.socket?.destroy();
          return;
        }
        this.awaitingPong = true;
        this.socket?.write(mqttPacket.generate({ cmd: 'pingreq' }));
      },
      (this.keepaliveS * 1000) / 2,
    );
    this.pingTimer.unref();
  }

  private allocateMessageId(): number {
    const id = this.nextMessageId;
    this.nextMessageId = id >= 65535 ? 1 : id + 1;
    return id;
  }
}
