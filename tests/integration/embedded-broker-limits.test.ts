/**
 * The embedded broker's limits (src/broker/embedded.ts, src/broker/limits.ts) on the
 * real aedes over TCP: packet size and connect timeout before login, failed logins per
 * address, the connection cap and its refusal, client ids reserved for Armada's own
 * clients, and a burst of acknowledgements released behind live positions (which used
 * to overflow the stack at 5,000 devices).
 */
import net from 'node:net';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import * as mqttPacket from 'mqtt-packet';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker, type EmbeddedBrokerLimits } from '../../src/broker/embedded.js';
import { LoginThrottle } from '../../src/broker/limits.js';
import type { DeviceIdentity } from '../../src/domain/ingest-types.js';
import { hashDeviceSecret } from '../../src/security/secrets.js';

const SECRET = 'device-secret-for-limits';
const secretHash = hashDeviceSecret(SECRET);

function identity(id: string): DeviceIdentity {
  return { id, vehicleId: 'vehicle', departmentId: 'department', protocol: 'armada', secretHash, active: true };
}

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close().catch(() => undefined);
});

/** A broker whose devices are dev-*, with its log lines kept, and ingest held by the test when asked. */
async function startBroker(limits: Partial<EmbeddedBrokerLimits>, hold?: Array<() => void>) {
  const log: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, cb) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) log.push(JSON.parse(line));
        cb();
      },
    }),
  );
  const broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    logger,
    findDevice: async (id) => (id.startsWith('dev-') ? identity(id) : undefined),
    ingest: hold ? () => new Promise<void>((resolve) => hold.push(resolve)) : async () => undefined,
    limits,
  });
  opened.push(broker);
  return { broker, log };
}

async function connect(broker: EmbeddedBroker, opts: IClientOptions): Promise<MqttClient> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...opts,
  });
  opened.push({ close: () => client.endAsync(true) });
  return client;
}

const device = (broker: EmbeddedBroker, id: string, opts: IClientOptions = {}) =>
  connect(broker, { username: id, password: SECRET, clientId: id, ...opts });

/** Armada's own client (the API's live feed), with the internal credential. */
function asInternal(broker: EmbeddedBroker, clientId: string): Promise<MqttClient> {
  const internal = new URL(broker.internalUrl);
  return connect(broker, { username: decodeURIComponent(internal.username), password: decodeURIComponent(internal.password), clientId });
}

/** A CONNECT packet; with a user name, the device secret as password. */
function connectPacket(clientId: string, username?: string): Buffer {
  return mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clientId,
    clean: true,
    keepalive: 60,
    ...(username ? { username, password: Buffer.from(SECRET) } : {}),
  });
}

/** A raw socket; resolves `closed` when the broker closes it. */
async function rawSocket(port: number, localAddress = '127.0.0.1') {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress });
  await once(socket, 'connect');
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  opened.push({ close: async () => void socket.destroy() });
  return { socket, closed };
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Resolves true if the promise settles within `ms`, false otherwise (the broker would have had to act). */
const within = (p: Promise<unknown>, ms: number) => Promise.race([p.then(() => true), sleep(ms).then(() => false)]);

describe('embedded broker limits', () => {
  it('closes a connection whose packet announces more than the maximum, as soon as its header arrives, before login', async () => {
    const { broker, log } = await startBroker({ maxPacketBytes: 64 * 1024, connectTimeoutMs: 60_000 });
    const { socket, closed } = await rawSocket(broker.port);
    // A CONNECT announcing 256 MiB (remaining length 0xFF 0xFF 0xFF 0x7F), then a little of it.
    socket.write(Buffer.concat([Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]), Buffer.alloc(1024)]));
    expect(await within(closed, 5000)).toBe(true);
    expect(log.some((l) => l.msg === 'mqtt packet too large; connection closed' && l.announcedBytes === 268_435_460)).toBe(true);
  });

  it('takes packets up to the maximum from a logged-in device and closes it on a larger one', async () => {
    const stored: number[] = [];
    const hold: Array<() => void> = [];
    const { broker } = await startBroker({ maxPacketBytes: 8 * 1024 }, hold);
    const timer = setInterval(() => hold.splice(0).forEach((r) => r()), 5);
    opened.push({ close: async () => clearInterval(timer) });
    const client = await device(broker, 'dev-big');
    await client.publishAsync('fleet/v1/devices/dev-big/telemetry', Buffer.alloc(7 * 1024, 0x20), { qos: 1 });
    stored.push(1);
    const gone = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish('fleet/v1/devices/dev-big/telemetry', Buffer.alloc(9 * 1024, 0x20), { qos: 1 });
    expect(await within(gone, 5000)).toBe(true);
    expect(stored).toEqual([1]);
  });

  it('closes a socket that has not sent a complete CONNECT within the connect timeout', async () => {
    const { broker } = await startBroker({ connectTimeoutMs: 300 });
    const { socket, closed } = await rawSocket(broker.port);
    // Half a CONNECT, then nothing: a slow client holding a socket open.
    socket.write(connectPacket('slow').subarray(0, 6));
    // aedes' own default is 30 s: only the configured timeout closes it this soon.
    expect(await within(closed, 5000)).toBe(true);
  });

  it('refuses an address after too many failed logins, even with the right secret, and not other addresses', async () => {
    const { broker, log } = await startBroker({ authFailuresPerMinute: 3 });
    for (let i = 0; i < 3; i++) {
      await expect(connect(broker, { username: 'dev-1', password: 'wrong', clientId: `try-${i}` })).rejects.toMatchObject({ code: 4 });
    }
    await expect(device(broker, 'dev-1')).rejects.toMatchObject({ code: 5 });
    expect(log.filter((l) => l.msg === 'mqtt logins from this address refused for a minute: too many failed')).toHaveLength(1);
    // Another address is not affected (Linux routes all of 127.0.0.0/8 to loopback).
    const other = net.connect({ port: broker.port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const connack = new Promise<mqttPacket.IConnackPacket>((resolve) => parser.on('packet', (p) => p.cmd === 'connack' && resolve(p)));
    other.on('data', (d: Buffer) => parser.parse(d));
    opened.push({ close: async () => void other.destroy() });
    await once(other, 'connect');
    other.write(connectPacket('dev-1', 'dev-1'));
    expect((await connack).returnCode).toBe(0);
  });

  it('refuses devices past the cap with CONNACK 3 and a log line naming Mosquitto, and takes one again once a place frees', async () => {
    const { broker, log } = await startBroker({ maxConnections: 3 });
    const clients = [await device(broker, 'dev-1'), await device(broker, 'dev-2'), await device(broker, 'dev-3')];
    await expect(device(broker, 'dev-4')).rejects.toMatchObject({ code: 3 });
    await expect(device(broker, 'dev-5')).rejects.toMatchObject({ code: 3 });
    const capLines = log.filter((l) => String(l.msg).startsWith('embedded mqtt broker full'));
    expect(capLines).toHaveLength(1); // once a minute, not once a refusal
    expect(capLines[0]!.msg).toMatch(/run Mosquitto and set MQTT_URL/);
    expect(capLines[0]!.maxConnections).toBe(3);
    await clients[0]!.endAsync();
    let fourth: MqttClient | undefined;
    for (let i = 0; i < 100 && !fourth; i++) {
      fourth = await device(broker, 'dev-4').catch(() => undefined);
      if (!fourth) await sleep(20);
    }
    expect(fourth?.connected).toBe(true);
  });

  it("refuses a device using a client id of Armada's own clients, and leaves that client connected", async () => {
    const { broker } = await startBroker({});
    const api = await asInternal(broker, 'armada-api-0a1b2c3d');
    await expect(device(broker, 'dev-1', { clientId: 'armada-api-0a1b2c3d' })).rejects.toMatchObject({ code: 2 });
    await expect(device(broker, 'dev-1', { clientId: 'armada-ingest-1' })).rejects.toMatchObject({ code: 2 });
    // The simulator's ids (armada-sim-…) stay usable.
    expect((await device(broker, 'dev-1', { clientId: 'armada-sim-dev-1' })).connected).toBe(true);
    await api.publishAsync('fleet/v1/live/d/v', 'still here', { qos: 1 });
    expect(api.connected).toBe(true);
  });

  it('acknowledges a burst of held publishes released behind live positions, without stalling or overflowing the stack', async () => {
    const hold: Array<() => void> = [];
    const { broker } = await startBroker({}, hold);
    // The live feed's subscriber (the API, in the service).
    const live = await asInternal(broker, 'live');
    let liveReceived = 0;
    live.on('message', () => liveReceived++);
    await live.subscribeAsync('fleet/v1/live/#', { qos: 0 });

    // Devices flush their backlogs (as a tracker, or the simulator, does after a stall):
    // everything waits for one commit.
    const devices = 40;
    const perDevice = 500;
    let acked = 0;
    for (let d = 0; d < devices; d++) {
      const { socket } = await rawSocket(broker.port);
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      const id = `dev-${d}`;
      parser.on('packet', (p) => {
        if (p.cmd === 'puback') acked++;
        if (p.cmd !== 'connack') return;
        const topic = `fleet/v1/devices/${id}/telemetry`;
        const publishes = Array.from({ length: perDevice }, (_, i) =>
          mqttPacket.generate({ cmd: 'publish', topic, payload: `{"seq":${i}}`, qos: 1, messageId: i + 1, retain: false, dup: false }),
        );
        socket.write(Buffer.concat(publishes));
      });
      socket.on('data', (data: Buffer) => parser.parse(data));
      socket.write(connectPacket(id, id));
    }
    await until(() => hold.length === devices * perDevice, 'every publish held for the commit');

    // The commit: its live positions go out, then every device's PUBACK.
    for (let i = 0; i < 300; i++) broker.publish(`fleet/v1/live/dept/vehicle-${i}`, 'x'.repeat(300));
    hold.splice(0).forEach((resolve) => resolve());
    await until(() => acked === devices * perDevice && liveReceived === 300, 'every PUBACK and live position');
  }, 60_000);
});

describe('LoginThrottle', () => {
  it('counts failures in a sliding minute per address and forgets them', () => {
    let now = 0;
    const throttle = new LoginThrottle(2, () => now);
    expect(throttle.failed('a')).toBe(false);
    now = 30_000;
    expect(throttle.failed('a')).toBe(true);
    expect(throttle.allowed('a')).toBe(false);
    expect(throttle.allowed('b')).toBe(true);
    now = 60_001; // the first failure is a minute old
    expect(throttle.allowed('a')).toBe(true);
    now = 90_001;
    expect(throttle.allowed('a')).toBe(true);
    expect(throttle.size).toBe(0);
  });

  it('keeps at most maxAddresses addresses', () => {
    const throttle = new LoginThrottle(5, () => 0, 3);
    for (const a of ['a', 'b', 'c', 'd']) throttle.failed(a);
    expect(throttle.size).toBe(3);
  });
});
