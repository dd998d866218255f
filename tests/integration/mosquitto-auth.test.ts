/**
 * `tsx src/cli.ts mosquitto-auth` against the real Mosquitto binary: the password and
 * ACL files it writes from the devices table, loaded by a broker running
 * deploy/mosquitto/mosquitto.conf (only the ports and file paths changed), let each
 * device publish its own topic and nothing else, deliver a device nothing, refuse
 * anonymous and wrong-password clients, and, rewritten in place and reloaded with
 * SIGHUP, refuse a deactivated device and a rotated secret.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { createRepositories } from '../../src/repositories/index.js';
import { generateDeviceSecret, hashDeviceSecret } from '../../src/security/secrets.js';
import { writeDeployConfig, writeTestCertificate, type ListenerPorts } from '../support/mosquitto-deploy.js';
import { freePort } from '../support/process.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../support/stores.js';

const MOSQUITTO = '/usr/sbin/mosquitto';
const hasMosquitto = existsSync(MOSQUITTO);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVICE_PASSWORD = 'armada-service-password-for-auth-test';

if (!hasMosquitto) console.warn(`Skipping the mosquitto-auth broker test: ${MOSQUITTO} is missing (apt-get install mosquitto).`);

/**
 * Where the test's devices live: a PostgreSQL database of the test server, or a
 * PGlite data directory (closed while the CLI, another process, opens it).
 */
class Store {
  private database: Database | undefined;
  private constructor(
    private readonly testDb: TestDatabase | undefined,
    private readonly dataDir: string | undefined,
  ) {}

  static async create(dir: string): Promise<Store> {
    const testDb = await createTestDatabase();
    if (testDb.url) return new Store(testDb, undefined);
    await testDb.drop();
    const dataDir = join(dir, 'pglite');
    const database = await openDatabase({ kind: 'pglite', dataDir, logger: silentLogger });
    await migrateDatabase(database);
    await database.close();
    return new Store(undefined, dataDir);
  }

  /** Runs `fn` with the repositories, the database open only meanwhile for PGlite. */
  async with<T>(fn: (repos: ReturnType<typeof createRepositories>) => Promise<T>): Promise<T> {
    if (this.testDb) return fn(createRepositories(this.testDb.database));
    this.database = await openDatabase({ kind: 'pglite', dataDir: this.dataDir!, logger: silentLogger });
    try {
      return await fn(createRepositories(this.database));
    } finally {
      await this.database.close();
      this.database = undefined;
    }
  }

  env(): Record<string, string> {
    return this.testDb ? { DATABASE_URL: this.testDb.url! } : { DATA_DIR: this.dataDir! };
  }

  async close(): Promise<void> {
    await this.testDb?.drop();
  }
}

async function runCli(args: string[], env: Record<string, string>) {
  const { DATABASE_URL: _d, DATA_DIR: _dd, MQTT_URL: _m, ...base } = process.env;
  return promisify(execFile)(join(ROOT, 'node_modules/.bin/tsx'), ['src/cli.ts', 'mosquitto-auth', ...args], {
    cwd: ROOT,
    env: { ...base, LOG_LEVEL: 'error', ...env },
    timeout: 60_000,
  });
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

type Received = Array<{ topic: string; payload: string }>;

describe.skipIf(!hasMosquitto)('mosquitto-auth files on the real broker', () => {
  let dir: string;
  let store: Store;
  let ports: ListenerPorts;
  let broker: ChildProcess;
  let brokerLog = '';
  const clients: MqttClient[] = [];
  const secrets: Record<string, string> = {};

  /** On the devices' listener, or on the service listener. */
  async function connect(opts: IClientOptions, listener: 'devices' | 'service' = 'devices'): Promise<MqttClient> {
    const url = `mqtt://127.0.0.1:${ports[listener]}`;
    const client = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 3000, ...opts });
    clients.push(client);
    return client;
  }
  const asDevice = (id: string) =>
    connect({ username: id, password: secrets[id]!, clientId: `${id}-${Math.random().toString(36).slice(2, 8)}` });
  const asService = () => connect({ username: 'armada', password: SERVICE_PASSWORD }, 'service');
  function inbox(client: MqttClient): Received {
    const received: Received = [];
    client.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }));
    return received;
  }
  async function telemetrySubscriber(): Promise<Received> {
    const service = await asService();
    const received = inbox(service);
    await service.subscribeAsync({ 'fleet/v1/devices/+/telemetry': { qos: 1 }, 'owntracks/#': { qos: 1 } });
    return received;
  }
  const generate = () =>
    runCli(['--passwd', join(dir, 'passwd'), '--acl', join(dir, 'acl'), '--service-passwd', join(dir, 'service-passwd')], {
      ...store.env(),
      MQTT_ARMADA_PASSWORD: SERVICE_PASSWORD,
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'armada-mosquitto-auth-'));
    store = await Store.create(dir);
    await store.with(async (repos) => {
      const dep = await repos.departments.create({ code: 'MQ', name: 'Dinas MQ' });
      const vehicle = await repos.vehicles.create({
        plateNumber: 'DH 1883 MQ',
        departmentId: dep.id,
        kind: 'car',
        fuelType: 'pertalite',
        tankCapacityLitres: 40,
        ratedLitresPer100Km: 9,
        idleLitresPerHour: 0.7,
        monthlyAllocationLitres: 100,
      });
      for (const [id, protocol] of [
        ['dev-1', 'armada'],
        ['dev-2', 'armada'],
        ['dev-off', 'armada'],
        ['alice/phone', 'owntracks'],
      ] as const) {
        secrets[id] = generateDeviceSecret();
        await repos.devices.create({ id, vehicleId: vehicle.id, protocol, secretHash: hashDeviceSecret(secrets[id]!) });
      }
      await repos.devices.setActive('dev-off', false);
    });

    const { stdout } = await generate();
    expect(stdout).toContain('3 active device(s); 1 deactivated device(s) left out');
    expect(stdout).toContain('HUP');
    const passwd = readFileSync(join(dir, 'passwd'), 'utf8');
    // The phone also under its user part: the OwnTracks app publishes on owntracks/%u/%d.
    expect(
      passwd
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(':')[0]),
    ).toEqual(['alice', 'alice/phone', 'dev-1', 'dev-2']);
    expect(
      readFileSync(join(dir, 'service-passwd'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(':')[0]),
    ).toEqual(['armada']);

    ports = { devices: await freePort(), devicesTls: await freePort(), service: await freePort() };
    const confPath = writeDeployConfig(dir, ports);
    writeTestCertificate(dir);
    // Started as root, Mosquitto drops to the `mosquitto` user before it reads the files.
    for (const f of ['acl', 'passwd', 'service-passwd']) chmodSync(join(dir, f), 0o644);
    broker = spawn(MOSQUITTO, ['-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    broker.stdout!.on('data', (d: Buffer) => (brokerLog += d.toString()));
    broker.stderr!.on('data', (d: Buffer) => (brokerLog += d.toString()));
    const deadline = Date.now() + 5000;
    for (;;) {
      if (broker.exitCode !== null) throw new Error(`mosquitto exited:\n${brokerLog}`);
      const socket = net.connect(ports.service, '127.0.0.1');
      const up = await once(socket, 'connect').then(
        () => true,
        () => false,
      );
      socket.destroy();
      if (up) break;
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen:\n${brokerLog}`);
      await sleep(25);
    }
  }, 90_000);

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.endAsync(true)));
    if (broker && broker.exitCode === null) {
      broker.kill('SIGTERM');
      await once(broker, 'exit');
    }
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses anonymous clients, wrong passwords and a deactivated device', async () => {
    await expect(connect({})).rejects.toMatchObject({ code: 5 });
    await expect(connect({ username: 'dev-1', password: 'not-the-secret' })).rejects.toMatchObject({ code: 5 });
    await expect(connect({ username: 'dev-1', password: secrets['dev-2']! })).rejects.toMatchObject({ code: 5 });
    await expect(connect({ username: 'armada', password: 'not-the-password' }, 'service')).rejects.toMatchObject({ code: 5 });
    await expect(asDevice('dev-off')).rejects.toMatchObject({ code: 5 });
    // Each password file opens its own listener only.
    await expect(connect({ username: 'armada', password: SERVICE_PASSWORD }, 'devices')).rejects.toMatchObject({ code: 5 });
    await expect(connect({ username: 'dev-1', password: secrets['dev-1']! }, 'service')).rejects.toMatchObject({ code: 5 });
  });

  it("delivers a device's own telemetry to the service user, and drops what it publishes to another device's topic", async () => {
    const received = await telemetrySubscriber();
    const device = await asDevice('dev-1');
    // Mosquitto acknowledges a denied MQTT 3.1.1 publish and drops it: prove non-delivery
    // by order (one client's publishes are handled in order).
    await device.publishAsync('fleet/v1/devices/dev-2/telemetry', 'forged', { qos: 1 });
    await device.publishAsync('fleet/v1/live/dept/vehicle', 'forged', { qos: 1 });
    await device.publishAsync('fleet/v1/devices/dev-1/telemetry', 'own', { qos: 1 });
    await until(() => received.some((m) => m.payload === 'own'), 'the own message');
    await sleep(100);
    expect(received).toEqual([{ topic: 'fleet/v1/devices/dev-1/telemetry', payload: 'own' }]);

    // A phone set up with the app's defaults: user name `alice`, topics owntracks/alice/phone[/…].
    const phone = await connect({ username: 'alice', password: secrets['alice/phone']!, clientId: 'alice-phone' });
    await phone.publishAsync('owntracks/bob/phone', 'forged', { qos: 1 });
    await phone.publishAsync('owntracks/alice/phone', '{"_type":"location"}', { qos: 1 });
    // The app's events: let through to the service, which quarantines them with a reason.
    await phone.publishAsync('owntracks/alice/phone/event', '{"_type":"transition"}', { qos: 1 });
    await until(() => received.some((m) => m.topic === 'owntracks/alice/phone/event'), 'the OwnTracks event');
    await sleep(100);
    expect(received.map((m) => m.payload)).toEqual(['own', '{"_type":"location"}', '{"_type":"transition"}']);
    // The full id still works as a user name, for its own topics only.
    const byId = await asDevice('alice/phone');
    await byId.publishAsync('owntracks/alice/other', 'forged', { qos: 1 });
    await byId.publishAsync('owntracks/alice/phone', 'by id', { qos: 1 });
    await until(() => received.some((m) => m.payload === 'by id'), 'the message of the phone connected by id');
    await sleep(100);
    expect(received.map((m) => m.payload)).toEqual(['own', '{"_type":"location"}', '{"_type":"transition"}', 'by id']);
  });

  it('delivers nothing to a device subscribed to fleet/# (or #)', async () => {
    const device = await asDevice('dev-1');
    const deviceReceived = inbox(device);
    await device.subscribeAsync(['fleet/#', '#'], { qos: 1 });
    const watcher = await telemetrySubscriber();
    const other = await asDevice('dev-2');
    const service = await asService();
    await other.publishAsync('fleet/v1/devices/dev-2/telemetry', 'from dev-2', { qos: 1 });
    await service.publishAsync('fleet/v1/live/dept/vehicle', 'live', { qos: 1 });
    await until(() => watcher.length === 1, 'the watcher to get dev-2’s message');
    // A client's packets leave the broker in order: after this round trip, anything
    // queued for the device has arrived.
    await device.unsubscribeAsync('nothing/here');
    expect(deviceReceived).toEqual([]);
  });

  it('rewrites the files in place; after SIGHUP a deactivated device and a rotated secret are refused', async () => {
    const files = ['passwd', 'acl', 'service-passwd'].map((f) => join(dir, f));
    const inodes = files.map((f) => statSync(f).ino);
    const rotated = generateDeviceSecret();
    await store.with(async (repos) => {
      await repos.devices.setActive('dev-2', false);
      await repos.devices.setSecretHash('dev-1', hashDeviceSecret(rotated));
    });
    const { stdout } = await generate();
    expect(stdout).toContain('2 active device(s); 2 deactivated device(s) left out');
    expect(files.map((f) => statSync(f).ino)).toEqual(inodes);
    broker.kill('SIGHUP');
    // The reload happens in the broker's main loop shortly after the signal.
    let refused = false;
    for (let i = 0; i < 100 && !refused; i++) {
      refused = await asDevice('dev-2').then(
        () => false,
        (err: { code?: number }) => err.code === 5,
      );
      if (!refused) await sleep(30);
    }
    expect(refused, `dev-2 was not refused after SIGHUP:\n${brokerLog}`).toBe(true);
    await expect(asDevice('dev-1')).rejects.toMatchObject({ code: 5 }); // the old secret
    secrets['dev-1'] = rotated;
    const device = await asDevice('dev-1');
    const received = await telemetrySubscriber();
    await device.publishAsync('fleet/v1/devices/dev-1/telemetry', 'rotated', { qos: 1 });
    await until(() => received.length === 1, 'the message sent with the new secret');
  });

  it('says what is wrong, with exit code 2, when the service password is not set', async () => {
    const args = ['src/cli.ts', 'mosquitto-auth', '--passwd', join(dir, 'x'), '--acl', join(dir, 'y'), '--service-passwd', join(dir, 'z')];
    const run = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', ...store.env() },
      timeout: 60_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr.toString()).toContain('MQTT_ARMADA_PASSWORD is not set');
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });
});
