/** Starts Armada as the entry points do, on the test stores, and cleans up after. */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, InjectOptions } from 'fastify';
import mqtt, { type MqttClient } from 'mqtt';
import { loadConfig } from '../../src/config.js';
import { startServices, type Roles, type Services } from '../../src/runtime.js';
import { createTestDatabase, realBrokerUrl, silentLogger, type TestDatabase } from './stores.js';

export interface TestService {
  services: Services;
  testDb: TestDatabase;
  adminKey: string;
  /** Where devices connect. */
  deviceMqttUrl: string;
  /** fetch against the API with the admin key (or another). */
  api(path: string, init?: RequestInit & { key?: string; json?: unknown }): Promise<Response>;
  /** A plain request to the API (no key added): over the network, or through `app.inject` when started with `listen: false`. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function startTestService(
  options: {
    roles?: Roles;
    env?: Record<string, string>;
    now?: () => Date;
    /**
     * false: the API does not listen and every request goes through Fastify's `inject`
     * (no socket, no HTTP client): for tests that make plain HTTP requests only.
     */
    listen?: boolean;
  } = {},
): Promise<TestService> {
  const testDb = await createTestDatabase();
  const adminKey = `test-admin-${randomBytes(16).toString('hex')}`;
  const brokerUrl = realBrokerUrl();
  const workerId = `t${randomBytes(4).toString('hex')}`;
  const config = loadConfig({
    HTTP_PORT: '0',
    MQTT_PORT: '0',
    ADMIN_API_KEY: adminKey,
    WORKER_ID: workerId,
    INGEST_BATCH_WAIT_MS: '10',
    // Tests poll the API often; the limits have tests of their own (access-limits.test.ts).
    RATE_LIMIT_PER_MINUTE: '100000',
    // The test's fetch and the service share one event loop: while a long PGlite query
    // blocks it, both keep-alive timers run late, and the server may close a pooled
    // connection just as the client reuses it (ECONNRESET). The timeouts have tests of their
    // own (access-limits.test.ts); here the server keeps idle connections longer than the client.
    HTTP_KEEP_ALIVE_TIMEOUT_MS: '65000',
    // On a broker shared with the other test files running at the same time, a worker
    // subscribed to every device's topic would also receive (and queue) their traffic, and
    // a broker with Mosquitto's default max_queued_messages (1000) drops what overflows.
    // Each test service subscribes to its own devices only. The wildcard subscription is
    // tested against private brokers (ingest-faults, ingest-crash).
    ...(brokerUrl ? { MQTT_URL: brokerUrl } : {}),
    ...(brokerUrl && !options.env?.MQTT_URL ? { INGEST_SUBSCRIPTIONS: 'per-device' } : {}),
    ...options.env,
  });
  const services = await startServices(config, options.roles ?? { api: true, worker: true }, {
    logger: silentLogger,
    database: testDb.database,
    ...(options.now ? { now: options.now } : {}),
    ...(options.listen === false ? { listen: false } : {}),
  });
  const app = services.app;
  const send = (path: string, init: RequestInit = {}): Promise<Response> =>
    options.listen === false && app ? injectFetch(app, path, init) : fetch(`${services.httpUrl}${path}`, init);
  return {
    services,
    testDb,
    adminKey,
    deviceMqttUrl: services.deviceMqttUrl!,
    api(path, init = {}) {
      const { key, json, ...rest } = init;
      const headers = new Headers(rest.headers);
      headers.set('authorization', `Bearer ${key ?? adminKey}`);
      if (json !== undefined) headers.set('content-type', 'application/json');
      return send(path, { ...rest, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) });
    },
    fetch: send,
    async close() {
      await services.close();
      if (brokerUrl) await forgetSession(brokerUrl, `armada-ingest-${workerId}`);
      await testDb.drop();
    },
  };
}

/**
 * Answers a request through Fastify's `inject` as `fetch` would over the network: the
 * request's method, headers and body go in (a text body without a content type is
 * text/plain, as fetch sends it), and a real `Response` comes out.
 */
async function injectFetch(app: FastifyInstance, path: string, init: RequestInit): Promise<Response> {
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => {
    headers[name] = value;
  });
  const body = init.body;
  let payload: string | Buffer | undefined;
  if (typeof body === 'string') {
    payload = body;
    headers['content-type'] ??= 'text/plain;charset=UTF-8';
  } else if (body instanceof Uint8Array) {
    payload = Buffer.from(body);
  } else if (body !== undefined && body !== null) {
    throw new Error('injectFetch takes a string or bytes as the body');
  }
  const res = await app.inject({
    method: (init.method ?? 'GET') as InjectOptions['method'],
    url: path,
    headers,
    ...(payload !== undefined ? { payload } : {}),
  });
  const out = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.append(name, String(v));
  }
  const noBody = [204, 205, 304].includes(res.statusCode) || init.method === 'HEAD';
  return new Response(noBody ? null : new Uint8Array(res.rawPayload), {
    status: res.statusCode,
    statusText: res.statusMessage,
    headers: out,
  });
}

/** Removes a persistent session a test left on a shared broker (a clean connect discards it). */
async function forgetSession(url: string, clientId: string): Promise<void> {
  const client = await mqtt.connectAsync(url, { clientId, clean: true, protocolVersion: 4, reconnectPeriod: 0 }).catch(() => undefined);
  await client?.endAsync();
}

export async function connectDevice(url: string, deviceId: string, secret: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    clientId: `${deviceId}-${randomBytes(3).toString('hex')}`,
    username: deviceId,
    password: secret,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
}

export async function waitFor<T>(probe: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

/** Creates a department, a vehicle and a device through the API; answers the ids and the device secret. */
export async function registerVehicleWithDevice(
  t: TestService,
  opts: { code?: string; plate?: string; deviceId?: string; tankCapacityLitres?: number } = {},
) {
  const suffix = randomBytes(3).toString('hex');
  const dep = (await (
    await t.api('/api/v1/departments', { method: 'POST', json: { code: opts.code ?? `D${suffix}`, name: 'Dinas Test' } })
  ).json()) as { id: string };
  const veh = (await (
    await t.api('/api/v1/vehicles', {
      method: 'POST',
      json: {
        plateNumber: opts.plate ?? `DH ${suffix}`,
        departmentId: dep.id,
        kind: 'car',
        fuelType: 'pertalite',
        tankCapacityLitres: opts.tankCapacityLitres ?? 50,
        ratedLitresPer100Km: 10,
        idleLitresPerHour: 0.8,
        monthlyAllocationLitres: 200,
      },
    })
  ).json()) as { id: string };
  const res = await t.api('/api/v1/devices', { method: 'POST', json: { id: opts.deviceId ?? `dev-${suffix}`, vehicleId: veh.id } });
  if (res.status !== 201) throw new Error(`device registration failed: ${res.status} ${await res.text()}`);
  const dev = (await res.json()) as { id: string; secret: string };
  return { departmentId: dep.id as string, vehicleId: veh.id as string, deviceId: dev.id as string, secret: dev.secret as string };
}
