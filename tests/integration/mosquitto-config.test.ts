/**
 * Keeps deploy/mosquitto/ and docker-compose.yml honest without a Docker engine: the
 * broker config and ACL run, as written, in the real Mosquitto binary; only the
 * listener ports and the file paths are rewritten (tests/support/mosquitto-deploy.ts).
 * The compose file's broker health check runs against that broker, and its mounts
 * and published ports are checked against what the config names.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import mqttPacket, { type IConnackPacket, type IPublishPacket, type Packet } from 'mqtt-packet';
import YAML from 'yaml';
import { loadConfig } from '../../src/config.js';
import { hashDeviceSecret } from '../../src/security/secrets.js';
import { canConnect } from '../../bench/mosquitto.js';
import { BrokerSession } from '../../src/ingest/broker-session.js';
import { writeDeployConfig, writeTestCertificate, LISTENERS, type ListenerName, type ListenerPorts } from '../support/mosquitto-deploy.js';
import { freePort } from '../support/process.js';
import { silentLogger } from '../support/stores.js';

const MOSQUITTO = '/usr/sbin/mosquitto';
const MOSQUITTO_PASSWD = 'mosquitto_passwd';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONF_FILE = join(ROOT, 'deploy/mosquitto/mosquitto.conf');
const ACL_FILE = join(ROOT, 'deploy/mosquitto/acl');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');

const hasMosquitto = existsSync(MOSQUITTO) && spawnSync(MOSQUITTO_PASSWD, ['-h']).error === undefined;
const hasMosquittoSub = spawnSync('mosquitto_sub', ['--help']).error === undefined;
const hasComposePlugin = spawnSync('docker', ['compose', 'version']).status === 0;

if (!hasMosquitto) {
  console.warn(`Skipping the broker tests: ${MOSQUITTO} or ${MOSQUITTO_PASSWD} is missing (apt-get install mosquitto).`);
}

// ---------------------------------------------------------------------------
// The config as written, with only what must differ outside the container.

/** The value of a directive (first occurrence), or undefined. */
function directive(conf: string, key: string): string | undefined {
  for (const line of conf.split('\n')) {
    const m = /^\s*(\S+)\s+(.*?)\s*$/.exec(line);
    if (m && m[1] === key) return m[2];
  }
  return undefined;
}

/** Each listener of the config with the settings that follow it (up to the next listener or section). */
function listenerBlocks(conf: string): Array<{ port: number; get(key: string): string | undefined }> {
  const blocks: Array<{ port: number; settings: Map<string, string> }> = [];
  for (const line of conf.split('\n')) {
    const m = /^\s*([^\s#]\S*)\s+(.*?)\s*$/.exec(line);
    if (/^# ---/.test(line)) blocks.push({ port: -1, settings: new Map() }); // a new section ends the listener
    if (!m) continue;
    if (m[1] === 'listener') blocks.push({ port: Number(m[2]!.split(/\s+/)[0]), settings: new Map() });
    else blocks.at(-1)?.settings.set(m[1]!, m[2]!);
  }
  return blocks.filter((b) => b.port >= 0).map((b) => ({ port: b.port, get: (key: string) => b.settings.get(key) }));
}

/** The real broker as a child process. */
class Broker {
  private proc: ChildProcess | undefined;
  log = '';

  constructor(
    readonly confPath: string,
    readonly ports: readonly number[],
  ) {}

  async start(): Promise<void> {
    const proc = spawn(MOSQUITTO, ['-c', this.confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stdout.on('data', (d: Buffer) => (this.log += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (this.log += d.toString()));
    const deadline = Date.now() + 5000;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`mosquitto exited (${proc.exitCode ?? proc.signalCode}):\n${this.log}`);
      }
      if ((await Promise.all(this.ports.map((p) => canConnect(p)))).every(Boolean)) return;
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${this.ports.join(', ')}:\n${this.log}`);
      await sleep(25);
    }
  }

  /** SIGTERM: a clean shutdown, which writes the persistence database. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  /** SIGHUP: Mosquitto reloads its password and ACL files. */
  reload(): void {
    this.proc?.kill('SIGHUP');
  }
}

async function until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

type Received = { topic: string; payload: string };

/**
 * A bare MQTT 3.1.1 session over a socket (mqtt-packet): unlike MQTT.js it can leave
 * QoS 1 messages unacknowledged, which shows the broker's in-flight window.
 */
class RawSession {
  readonly publishes: IPublishPacket[] = [];
  private readonly others: Packet[] = [];
  autoAck = false;

  private constructor(private readonly socket: net.Socket) {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (packet: Packet) => {
      if (packet.cmd === 'publish') {
        this.publishes.push(packet);
        if (this.autoAck) this.ack(packet);
      } else {
        this.others.push(packet);
      }
    });
    socket.on('data', (data: Buffer) => parser.parse(data));
  }

  static async connect(
    port: number,
    o: { clientId: string; username: string; password: string },
  ): Promise<{ session: RawSession; connack: IConnackPacket }> {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const session = new RawSession(socket);
    session.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: false,
      clientId: o.clientId,
      username: o.username,
      password: Buffer.from(o.password),
      keepalive: 60,
    });
    const connack = (await session.next('connack')) as IConnackPacket;
    return { session, connack };
  }

  send(packet: Packet): void {
    this.socket.write(mqttPacket.generate(packet));
  }

  ack(packet: IPublishPacket): void {
    this.send({ cmd: 'puback', messageId: packet.messageId! });
  }

  async next(cmd: Packet['cmd']): Promise<Packet> {
    await until(() => this.others.some((p) => p.cmd === cmd), cmd);
    const index = this.others.findIndex((p) => p.cmd === cmd);
    return this.others.splice(index, 1)[0]!;
  }

  async close(): Promise<void> {
    if (this.socket.destroyed) return;
    this.send({ cmd: 'disconnect' });
    this.socket.end();
    await once(this.socket, 'close');
  }
}

// ---------------------------------------------------------------------------

describe.skipIf(!hasMosquitto)(`deploy/mosquitto on the real broker (${MOSQUITTO})`, () => {
  const conf = readFileSync(CONF_FILE, 'utf8');
  /** Devices, in the devices' password file; the service user alone in its own. */
  const passwords = {
    'dev-1': 'dev-1-secret',
    'dev-2': 'dev-2-secret',
    'alice/phone': 'alice-phone-secret',
  };
  const SERVICE_PASSWORD = 'armada-service-password-for-tests';
  let dir: string;
  let ports: ListenerPorts;
  let port: number;
  let ca: Buffer;
  let broker: Broker;
  const clients: MqttClient[] = [];
  const rawSessions: RawSession[] = [];

  async function connect(opts: IClientOptions, listener: ListenerName = 'devices'): Promise<MqttClient> {
    const url = listener === 'devicesTls' ? `mqtts://127.0.0.1:${ports.devicesTls}` : `mqtt://127.0.0.1:${ports[listener]}`;
    const client = await mqtt.connectAsync(url, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 3000,
      ...(listener === 'devicesTls' ? { ca, rejectUnauthorized: true } : {}),
      ...opts,
    });
    clients.push(client);
    return client;
  }

  /** A device on its plain listener (or `listener`), or the service user on the service listener. */
  function as(user: keyof typeof passwords | 'armada', opts: IClientOptions = {}, listener?: ListenerName): Promise<MqttClient> {
    if (user === 'armada') return connect({ username: user, password: SERVICE_PASSWORD, ...opts }, listener ?? 'service');
    return connect({ username: user, password: passwords[user], ...opts }, listener ?? 'devices');
  }

  function inbox(client: MqttClient): Received[] {
    const received: Received[] = [];
    client.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }));
    return received;
  }

  /** The service user subscribed like the ingest worker. */
  async function ingestSubscriber(): Promise<Received[]> {
    const client = await as('armada');
    const received = inbox(client);
    const granted = await client.subscribeAsync({ 'fleet/v1/devices/+/telemetry': { qos: 1 }, 'owntracks/#': { qos: 1 } });
    expect(granted.map((g) => g.qos)).toEqual([1, 1]);
    return received;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'armada-mosquitto-'));
    ports = { devices: await freePort(), devicesTls: await freePort(), service: await freePort() };
    port = ports.service;
    copyFileSync(ACL_FILE, join(dir, 'acl'));
    const confPath = writeDeployConfig(dir, ports);
    ca = writeTestCertificate(dir);
    for (const [i, [user, password]] of Object.entries(passwords).entries()) {
      execFileSync(MOSQUITTO_PASSWD, [...(i === 0 ? ['-c'] : []), '-b', join(dir, 'passwd'), user, password]);
    }
    execFileSync(MOSQUITTO_PASSWD, ['-c', '-b', join(dir, 'service-passwd'), 'armada', SERVICE_PASSWORD]);
    for (const f of ['acl', 'passwd', 'service-passwd']) chmodSync(join(dir, f), 0o644);

    broker = new Broker(confPath, Object.values(ports));
    await broker.start();
  }, 15_000);

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.endAsync(true)));
    await Promise.allSettled(rawSessions.map((s) => s.close()));
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses anonymous clients', async () => {
    await expect(connect({})).rejects.toMatchObject({ code: 5 });
  });

  it('refuses a wrong password', async () => {
    await expect(connect({ username: 'dev-1', password: 'not-the-secret' })).rejects.toMatchObject({ code: 5 });
    await expect(connect({ username: 'armada', password: 'not-the-secret' }, 'service')).rejects.toMatchObject({ code: 5 });
  });

  it('takes devices on the device listeners only and the service user on the service listener only', async () => {
    await expect(as('dev-1', {}, 'service')).rejects.toMatchObject({ code: 5 });
    await expect(as('armada', {}, 'devices')).rejects.toMatchObject({ code: 5 });
    await expect(as('armada', {}, 'devicesTls')).rejects.toMatchObject({ code: 5 });
    await expect(connect({}, 'service')).rejects.toMatchObject({ code: 5 });
  });

  it('takes devices over TLS on the 8883 listener, with the same rules', async () => {
    const received = await ingestSubscriber();
    const device = await as('dev-2', {}, 'devicesTls');
    await device.publishAsync('fleet/v1/devices/dev-1/telemetry', 'forged', { qos: 1 });
    await device.publishAsync('fleet/v1/devices/dev-2/telemetry', 'over-tls', { qos: 1 });
    await until(() => received.length > 0, 'the message sent over TLS');
    expect(received).toEqual([{ topic: 'fleet/v1/devices/dev-2/telemetry', payload: 'over-tls' }]);
    // A client that does not trust the certificate is not let in.
    await expect(as('dev-2', { ca: undefined }, 'devicesTls')).rejects.toThrow();
  });

  it('takes a packet up to max_packet_size and disconnects a device that sends a larger one', async () => {
    const max = Number(directive(conf, 'max_packet_size'));
    expect(max).toBeGreaterThan(256 * 1024); // the largest payload ingest takes, plus topic and header
    const received = await ingestSubscriber();
    const device = await as('dev-2');
    await device.publishAsync('fleet/v1/devices/dev-2/telemetry', Buffer.alloc(256 * 1024, 0x20), { qos: 1 });
    await until(() => received.length === 1, 'the 256 KiB message');
    const gone = new Promise<void>((resolve) => device.once('close', () => resolve()));
    device.publish('fleet/v1/devices/dev-2/telemetry', Buffer.alloc(max, 0x20), { qos: 1 });
    await gone;
    expect(received).toHaveLength(1);
  });

  it("loses nothing while a device loops reconnecting with the ingest worker's client id", async () => {
    // The worker's real session code, with its real (predictable) client id.
    const workerClientId = `armada-ingest-${loadConfig({}).workerId}`;
    const received = new Set<string>();
    const worker: BrokerSession = new BrokerSession({
      url: `mqtt://armada:${SERVICE_PASSWORD}@127.0.0.1:${ports.service}`,
      clientId: workerClientId,
      subscriptions: ['fleet/v1/devices/+/telemetry'],
      clean: false,
      logger: silentLogger,
      onMessage: (m) => {
        received.add(m.payload.toString());
        worker.acknowledge([m]);
      },
    });
    worker.start();
    try {
      await worker.waitReady(5000);

      // dev-2, with its valid credentials, takes the worker's id again and again on every
      // listener, with clean and persistent sessions, subscribing to everything.
      let attacking = true;
      const accepted: Record<ListenerName, number> = { devices: 0, devicesTls: 0, service: 0 };
      let refused = 0;
      const attack = (async () => {
        for (let i = 0; attacking; i++) {
          const listener = (['devices', 'devicesTls', 'service'] as const)[i % 3]!;
          const client = await as('dev-2', { clientId: workerClientId, clean: i % 2 === 0 }, listener).catch(() => undefined);
          if (!client) {
            refused++;
            continue;
          }
          accepted[listener]++;
          await client.subscribeAsync('#', { qos: 1 }).catch(() => undefined);
          await sleep(15);
          await client.endAsync(true);
        }
      })();

      const device = await as('dev-1');
      const total = 300;
      for (let i = 0; i < total; i++) {
        await device.publishAsync('fleet/v1/devices/dev-1/telemetry', String(i), { qos: 1 });
        if (i % 10 === 9) await sleep(10);
      }
      attacking = false;
      await attack;
      // Every message was acknowledged to the device by the broker: all must reach the worker.
      await until(() => received.size >= total, 'every message at the worker', 5000).catch(() => undefined);
      const missing = Array.from({ length: total }, (_, i) => String(i)).filter((seq) => !received.has(seq));
      expect(missing, `${missing.length} of ${total} messages lost`).toEqual([]);
      // The attack was real: the device got in on its listeners many times (as itself),
      // and never on the service listener.
      expect(accepted.devices + accepted.devicesTls).toBeGreaterThan(10);
      expect(accepted.service).toBe(0);
      expect(refused).toBeGreaterThan(0);
    } finally {
      await worker.close();
    }
  }, 30_000);

  it('delivers a device telemetry message to the service user', async () => {
    const received = await ingestSubscriber();
    const device = await as('dev-1');
    await device.publishAsync('fleet/v1/devices/dev-1/telemetry', '{"seq":1}', { qos: 1 });
    await until(() => received.length > 0, 'the telemetry message');
    expect(received).toEqual([{ topic: 'fleet/v1/devices/dev-1/telemetry', payload: '{"seq":1}' }]);
  });

  it("drops a device's publish to another device's topic or to the live topics", async () => {
    const received = await ingestSubscriber();
    const live = await as('armada');
    const liveReceived = inbox(live);
    await live.subscribeAsync('fleet/v1/live/#', { qos: 1 });
    const device = await as('dev-1');
    // Mosquitto 2 acknowledges a denied MQTT 3.1.1 publish and drops it, so prove
    // non-delivery by order: the broker handles one client's publishes in order, so
    // once the allowed message that follows has arrived, the forged ones would have too.
    await device.publishAsync('fleet/v1/devices/dev-2/telemetry', 'forged', { qos: 1 });
    await device.publishAsync('fleet/v1/live/dept/vehicle', 'forged', { qos: 1 });
    await device.publishAsync('fleet/v1/devices/dev-1/telemetry', 'after', { qos: 1 });
    await until(() => received.some((m) => m.payload === 'after'), 'the allowed message');
    await live.publishAsync('fleet/v1/live/dept/vehicle', 'from-the-service', { qos: 1 });
    await until(() => liveReceived.length > 0, 'the live message');
    await sleep(100);
    expect(received).toEqual([{ topic: 'fleet/v1/devices/dev-1/telemetry', payload: 'after' }]);
    expect(liveReceived).toEqual([{ topic: 'fleet/v1/live/dept/vehicle', payload: 'from-the-service' }]);
  });

  it('delivers nothing to a device, whatever it subscribes to', async () => {
    // Mosquitto's ACL file does not refuse subscriptions (2.0.11 grants them); it
    // checks read access per message at delivery. So prove non-delivery.
    const device = await as('dev-1');
    const deviceReceived = inbox(device);
    await device.subscribeAsync(['#', 'fleet/v1/devices/+/telemetry', 'fleet/v1/live/#', 'owntracks/#', '$SYS/#'], { qos: 1 });

    const watcher = await ingestSubscriber();
    const service = await as('armada');
    const phone = await as('alice/phone');
    await device.publishAsync('fleet/v1/devices/dev-1/telemetry', 'own', { qos: 1 });
    await phone.publishAsync('owntracks/alice/phone', 'phone', { qos: 1 });
    await service.publishAsync('fleet/v1/live/dept/vehicle', 'live', { qos: 1 });
    await until(() => watcher.length === 2, 'the watcher to receive both device messages');
    // The broker queues a message for every subscriber while it handles the publish,
    // and a client's packets leave in order: once this round trip is done, anything
    // queued for the device (including retained $SYS messages) has arrived.
    await device.unsubscribeAsync('nothing/here');
    expect(deviceReceived).toEqual([]);
  });

  it('lets an OwnTracks device (id user/device) publish to owntracks/user/device only', async () => {
    const received = await ingestSubscriber();
    const phone = await as('alice/phone');
    await phone.publishAsync('owntracks/bob/phone', 'forged', { qos: 1 });
    await phone.publishAsync('fleet/v1/devices/alice/telemetry', 'forged', { qos: 1 });
    await phone.publishAsync('owntracks/alice/phone', '{"_type":"location"}', { qos: 1 });
    await until(() => received.length > 0, 'the OwnTracks message');
    await sleep(100);
    expect(received).toEqual([{ topic: 'owntracks/alice/phone', payload: '{"_type":"location"}' }]);
  });

  it("accepts a device added to the password file with Armada's stored hash after SIGHUP", async () => {
    const secret = 'registered-after-start';
    await expect(connect({ username: 'dev-new', password: secret })).rejects.toMatchObject({ code: 5 });
    // What the device CLI will write: `<device id>:<devices.secret_hash>`.
    appendFileSync(join(dir, 'passwd'), `dev-new:${hashDeviceSecret(secret)}\n`);
    broker.reload();
    // The reload happens in the broker's main loop shortly after the signal.
    let device: MqttClient | undefined;
    for (let i = 0; i < 100 && !device; i++) {
      device = await connect({ username: 'dev-new', password: secret }).catch(() => undefined);
      if (!device) await sleep(30);
    }
    expect(device, `dev-new could not log in after SIGHUP:\n${broker.log}`).toBeDefined();
    await expect(connect({ username: 'dev-new', password: 'wrong' })).rejects.toMatchObject({ code: 5 });
  });

  it.skipIf(!hasMosquittoSub)("passes docker-compose.yml's broker health check", () => {
    const compose = YAML.parse(readFileSync(COMPOSE_FILE, 'utf8'));
    const test: unknown = compose.services.mosquitto.healthcheck.test;
    expect(Array.isArray(test) && test[0] === 'CMD-SHELL').toBe(true);
    const inCompose = (test as string[])[1]!;
    // The service listener: the only one where the service user exists.
    expect(inCompose).toContain(` -p ${LISTENERS.service} `);
    // Compose's `$$` is a literal `$`; the broker runs on the test port.
    const command = inCompose.replaceAll('$$', '$').replace(` -p ${LISTENERS.service} `, ` -p ${ports.service} `);
    const run = (password: string) =>
      spawnSync('sh', ['-c', command], { env: { ...process.env, MQTT_ARMADA_PASSWORD: password }, timeout: 10_000 });
    const ok = run(SERVICE_PASSWORD);
    expect(ok.status, ok.stderr.toString()).toBe(0);
    expect(run('wrong-password').status).not.toBe(0);
  });

  it('keeps queued messages of an offline persistent session across a restart and sends max_inflight_messages at a time', async () => {
    const inflight = Number(directive(conf, 'max_inflight_messages'));
    const queued = Number(directive(conf, 'max_queued_messages'));
    // The ingest worker fills a batch from the messages in flight: a window smaller
    // than its default batch makes every batch wait for INGEST_BATCH_WAIT_MS.
    expect(inflight).toBeGreaterThanOrEqual(loadConfig({}).ingestBatchSize);
    // More than Mosquitto's default max_queued_messages (1000), which would drop the rest.
    const total = Math.max(inflight, 1000) + 500;
    expect(queued).toBeGreaterThanOrEqual(total);
    const session = { clientId: 'armada-ingest-test', username: 'armada', password: SERVICE_PASSWORD };

    // The worker subscribes with a persistent session, then goes away.
    const first = await RawSession.connect(port, session);
    rawSessions.push(first.session);
    expect(first.connack.returnCode).toBe(0);
    first.session.send({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [{ topic: 'fleet/v1/devices/+/telemetry', qos: 1 }],
    });
    expect(await first.session.next('suback')).toMatchObject({ granted: [1] });
    await first.session.close();

    // Devices keep publishing while it is offline.
    const device = await as('dev-1');
    await Promise.all(
      Array.from({ length: total }, (_, i) => device.publishAsync('fleet/v1/devices/dev-1/telemetry', String(i), { qos: 1 })),
    );

    // The broker restarts (persistence true, persistence_location).
    await broker.stop();
    await broker.start();

    // The worker comes back without acknowledging anything: the broker sends
    // exactly its in-flight window and waits.
    const second = await RawSession.connect(port, session);
    rawSessions.push(second.session);
    expect(second.connack).toMatchObject({ returnCode: 0, sessionPresent: true });
    const s = second.session;
    await until(() => s.publishes.length >= inflight, `${inflight} unacknowledged messages`, 5000);
    await sleep(300);
    expect(s.publishes.length).toBe(inflight);

    // Acknowledging lets the rest through: every message arrives.
    s.autoAck = true;
    for (const p of [...s.publishes]) s.ack(p);
    const seqs = () => new Set(s.publishes.map((p) => p.payload.toString()));
    await until(() => seqs().size >= total, `all ${total} messages`, 5000);
    expect(seqs()).toEqual(new Set(Array.from({ length: total }, (_, i) => String(i))));
  }, 15_000);
});

// ---------------------------------------------------------------------------

describe('docker-compose.yml against deploy/mosquitto', () => {
  const compose = YAML.parse(readFileSync(COMPOSE_FILE, 'utf8'));
  const conf = readFileSync(CONF_FILE, 'utf8');
  const mosquitto = compose.services.mosquitto;
  /** container path -> host source (bind mounts resolved from the compose file's folder) */
  const mounts = new Map<string, string>(
    (mosquitto.volumes as string[]).map((v) => {
      const [source, target] = v.split(':') as [string, string];
      return [target, source.startsWith('.') || source.startsWith('/') ? resolve(ROOT, source) : `volume:${source}`];
    }),
  );

  const listeners = listenerBlocks(conf);
  const serviceListener = listeners.find((l) => l.port === LISTENERS.service)!;
  const published = (service: string): string[] => (compose.services[service].ports ?? []).map(String);

  it('mounts the tested files where the config and the image expect them', () => {
    expect(mounts.get('/mosquitto/config/mosquitto.conf')).toBe(CONF_FILE); // the image's default -c path
    for (const listener of listeners) {
      expect(mounts.get(listener.get('acl_file')!)).toBe(ACL_FILE);
      const passwd = listener.port === LISTENERS.service ? 'deploy/mosquitto/service-passwd' : 'deploy/mosquitto/passwd';
      expect(mounts.get(listener.get('password_file')!), `listener ${listener.port}`).toBe(join(ROOT, passwd));
    }
    const tls = listeners.find((l) => l.port === LISTENERS.devicesTls)!;
    for (const file of [tls.get('certfile')!, tls.get('keyfile')!]) {
      expect(mounts.get(dirname(file)), file).toBe(join(ROOT, 'deploy/certs'));
    }
    const persistence = directive(conf, 'persistence_location')!.replace(/\/$/, '');
    expect(mounts.get(persistence)).toMatch(/^volume:/);
  });

  it('publishes the device listeners only, each forcing client id = user name; the service listener stays inside', () => {
    expect(directive(conf, 'per_listener_settings')).toBe('true');
    const deviceListeners = listeners.filter((l) => l.port !== LISTENERS.service);
    expect(deviceListeners.map((l) => l.port).sort()).toEqual([LISTENERS.devices, LISTENERS.devicesTls]);
    for (const l of deviceListeners) expect(l.get('use_username_as_clientid'), `listener ${l.port}`).toBe('true');
    expect(published('mosquitto').sort()).toEqual(deviceListeners.map((l) => `${l.port}:${l.port}`).sort());
    // The service keeps the client ids it chooses, on a listener no device can log in to.
    expect(serviceListener.get('use_username_as_clientid')).toBeUndefined();
    expect(serviceListener.get('password_file')).not.toBe(deviceListeners[0]!.get('password_file'));
    for (const l of listeners) expect(l.get('allow_anonymous'), `listener ${l.port}`).toBe('false');
  });

  it('publishes nothing else but the HTTPS proxy, which forwards to the service', () => {
    const publishing = Object.keys(compose.services).filter((name) => published(name).length > 0);
    expect(publishing.sort()).toEqual(['mosquitto', 'proxy']);
    expect(published('proxy').sort()).toEqual(['443:443', '80:80']);
    const proxy = compose.services.proxy;
    const caddyfile = (proxy.volumes as string[]).find((v) => v.endsWith(':/etc/caddy/Caddyfile:ro'))!;
    const text = readFileSync(resolve(ROOT, caddyfile.split(':')[0]!), 'utf8');
    expect(text).toContain(`reverse_proxy armada:${compose.services.armada.environment.HTTP_PORT}`);
    expect(compose.services.armada.environment.HTTP_HOST).toBe('0.0.0.0');
    expect(text).toMatch(/^\s*tls \{\$ARMADA_TLS[:}]/m);
  });

  it('gives the service the broker user on the service listener and requires every secret', () => {
    const text = readFileSync(COMPOSE_FILE, 'utf8');
    expect(compose.services.armada.environment.MQTT_URL).toMatch(
      new RegExp(`^mqtt://armada:\\$\\{MQTT_ARMADA_PASSWORD:\\?[^}]*\\}@mosquitto:${serviceListener.port}$`),
    );
    const secrets = [...text.matchAll(/\$\{([A-Z_]*(?:PASSWORD|KEY|SECRET)[A-Z_]*)([^}]*)\}/g)];
    expect(secrets.length).toBeGreaterThan(0);
    for (const [whole, , rest] of secrets) expect(rest, whole).toMatch(/^:\?/);
  });

  it.skipIf(!hasComposePlugin)('is valid for `docker compose config` and refuses to run without a secret', () => {
    const secrets = { POSTGRES_PASSWORD: 'x'.repeat(24), MQTT_ARMADA_PASSWORD: 'y'.repeat(24), ADMIN_API_KEY: 'z'.repeat(24) };
    const config = (env: Record<string, string>) =>
      spawnSync('docker', ['compose', '-f', COMPOSE_FILE, 'config', '-q'], { cwd: ROOT, env, timeout: 20_000 });
    const valid = config({ ...process.env, ...secrets } as Record<string, string>);
    expect(valid.status, valid.stderr.toString()).toBe(0);
    const { ADMIN_API_KEY: _, ...withoutKey } = { ...process.env, ...secrets } as Record<string, string>;
    const refused = config(withoutKey);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr.toString()).toContain('ADMIN_API_KEY');
  });
});
