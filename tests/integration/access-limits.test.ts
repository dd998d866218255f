/**
 * Access control (issue 6), the HTTP side: rate limits per key and per address that a
 * forged X-Forwarded-For cannot reset, security headers, x-request-id, the body size
 * limit, HTTP metrics, and a log that never holds a key or a secret.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { telemetryTopic } from '../../src/domain/topics.js';
import { buildApp, type AppDeps } from '../../src/http/app.js';
import { createLiveHub } from '../../src/live/hub.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { createRepositories, type Repositories } from '../../src/repositories/index.js';
import { createServices } from '../../src/services.js';
import { startServices } from '../../src/runtime.js';
import { apiKeyPrefix, generateApiKey, hashApiKey } from '../../src/security/secrets.js';
import { connectDevice, waitFor } from '../support/service.js';
import { createTestDatabase, realBrokerUrl, silentLogger, type TestDatabase } from '../support/stores.js';
import { TcpProxy } from '../support/tcp-proxy.js';

let testDb: TestDatabase;
let repos: Repositories;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  testDb = await createTestDatabase();
  repos = createRepositories(testDb.database);
});

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

afterAll(async () => {
  await testDb?.drop();
});

async function newKey(role: 'admin' | 'viewer' = 'viewer'): Promise<string> {
  const key = generateApiKey();
  await repos.apiKeys.create({ name: `limits ${role}`, role, departmentId: null, keyHash: hashApiKey(key), keyPrefix: apiKeyPrefix(key) });
  return key;
}

/** The API alone, listening on a real socket (so the client address is the socket's), with small limits. */
async function startApi(rateLimit = { perMinute: 5, failedAuthPerMinute: 3 }, more: Partial<AppDeps> = {}) {
  const metrics = createMetrics();
  const app = await buildApp({
    database: testDb.database,
    repos,
    services: createServices(repos),
    logger: silentLogger,
    now: () => new Date(),
    metrics: metrics.registry,
    rateLimit,
    ...more,
  });
  apps.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const base = `http://127.0.0.1:${port}`;
  return {
    port,
    base,
    get: (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers }),
    fetch: (path: string, init: RequestInit) => fetch(`${base}${path}`, init),
  };
}

const forged = (i: number) => ({ 'x-forwarded-for': `203.0.113.${i}`, 'x-real-ip': `198.51.100.${i}`, forwarded: `for=192.0.2.${i}` });

describe('rate limits', () => {
  it('limits each key per minute (429 with the error shape and Retry-After), other keys unaffected', async () => {
    const api = await startApi();
    const [k1, k2] = [await newKey(), await newKey()];
    for (let i = 0; i < 5; i++) expect((await api.get('/api/v1/vehicles', { authorization: `Bearer ${k1}` })).status).toBe(200);
    const limited = await api.get('/api/v1/vehicles', { authorization: `Bearer ${k1}`, ...forged(1) });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await limited.json()) as { error: { code: string; message: string; requestId: string } };
    expect(body.error).toMatchObject({ code: 'rate_limited', requestId: expect.any(String) });
    expect(body.error.message).toContain('this API key');
    expect((await api.get('/api/v1/vehicles', { authorization: `Bearer ${k2}` })).status).toBe(200);
  });

  it('limits requests without a key per client address; a forged X-Forwarded-For does not reset it', async () => {
    const api = await startApi();
    for (let i = 0; i < 5; i++) expect((await api.get('/docs/json', forged(i))).status).toBe(200);
    expect((await api.get('/docs/json', forged(99))).status).toBe(429);
    expect((await api.get('/docs/json')).status).toBe(429);
  });

  it('throttles guessing keys per address, forged X-Forwarded-For or not; a valid key and the web page still get through', async () => {
    const api = await startApi();
    const [used, fresh] = [await newKey(), await newKey()];
    expect((await api.get('/api/v1/vehicles', { authorization: `Bearer ${used}` })).status).toBe(200);
    for (let i = 0; i < 3; i++)
      expect((await api.get('/api/v1/vehicles', { authorization: `Bearer guess-${i}`, ...forged(i) })).status).toBe(401);
    const blocked = await api.get('/api/v1/vehicles', { authorization: 'Bearer guess-x', ...forged(42) });
    expect(blocked.status).toBe(429);
    expect(((await blocked.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    expect((await api.get('/api/v1/vehicles', forged(43))).status).toBe(429);
    // A valid key gets through, whether it was used lately or never; the web page takes no key and is not blocked.
    expect((await api.get('/api/v1/vehicles', { authorization: `Bearer ${fresh}` })).status).toBe(200);
    expect((await api.get('/api/v1/vehicles', { authorization: `Bearer ${used}` })).status).toBe(200);
    expect((await api.get('/')).status).toBe(200);
    // A wrong key is still refused with 429, not 401: the address stays blocked.
    expect((await api.get('/api/v1/vehicles', { authorization: 'Bearer guess-y' })).status).toBe(429);
  });

  it('behind a trusted proxy (TRUST_PROXY), throttles each client, not the proxy', async () => {
    const api = await startApi({ perMinute: 100, failedAuthPerMinute: 3 }, { trustProxy: '127.0.0.1' });
    const key = await newKey();
    const client = (ip: string, auth?: string) => ({ 'x-forwarded-for': ip, ...(auth ? { authorization: `Bearer ${auth}` } : {}) });
    for (let i = 0; i < 3; i++) expect((await api.get('/api/v1/vehicles', client('203.0.113.7', `guess-${i}`))).status).toBe(401);
    expect((await api.get('/api/v1/vehicles', client('203.0.113.7', 'guess-x'))).status).toBe(429);
    expect((await api.get('/api/v1/vehicles', client('203.0.113.7'))).status).toBe(429);
    // Another client behind the same proxy is not blocked; the blocked one's valid key and web page are not either.
    expect((await api.get('/api/v1/vehicles', client('203.0.113.8', 'guess-z'))).status).toBe(401);
    expect((await api.get('/api/v1/vehicles', client('203.0.113.7', key))).status).toBe(200);
    expect((await api.get('/', client('203.0.113.7'))).status).toBe(200);
    // The proxy's own address (no X-Forwarded-For) is a client of its own.
    expect((await api.get('/api/v1/vehicles', { authorization: 'Bearer guess-p' })).status).toBe(401);
  });

  it('never limits /healthz, /readyz and /metrics', async () => {
    const api = await startApi({ perMinute: 2, failedAuthPerMinute: 1 });
    expect((await api.get('/api/v1/vehicles')).status).toBe(401); // and this address is now over its failed-auth limit
    for (let i = 0; i < 10; i++) {
      for (const path of ['/healthz', '/readyz', '/metrics']) expect((await api.get(path)).status, path).toBe(200);
    }
  });
});

describe('headers, request ids, body size, metrics', () => {
  it('sends security headers with a CSP for the API, /docs and the map tiles', async () => {
    const api = await startApi();
    for (const path of ['/api/v1/vehicles', '/docs/json', '/healthz']) {
      const res = await api.get(path);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
      const csp = res.headers.get('content-security-policy')!;
      expect(csp, path).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).toMatch(/img-src [^;]*https:\/\/tile\.openstreetmap\.org [^;]*https:\/\/\*\.tile\.openstreetmap\.org/);
      expect(csp).not.toContain('upgrade-insecure-requests');
    }
  });

  it('echoes x-request-id, and makes one when none is sent; error bodies carry the same id', async () => {
    const api = await startApi();
    const given = await api.get('/api/v1/vehicles', { 'x-request-id': 'trace-abc-123' });
    expect(given.headers.get('x-request-id')).toBe('trace-abc-123');
    expect(((await given.json()) as { error: { requestId: string } }).error.requestId).toBe('trace-abc-123');
    const made = await api.get('/api/v1/vehicles');
    const id = made.headers.get('x-request-id');
    expect(id).toBeTruthy();
    expect(((await made.json()) as { error: { requestId: string } }).error.requestId).toBe(id);
    // A client's id is echoed and logged only when it is short and plain; otherwise a fresh one is made.
    for (const bad of ['x'.repeat(129), 'has spaces in it', 'quote"and<angle>', 'emoji-\u00e9']) {
      const res = await api.get('/api/v1/vehicles', { 'x-request-id': bad });
      const echoed = res.headers.get('x-request-id');
      expect(echoed, bad).not.toBe(bad);
      expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect((await api.get('/api/v1/vehicles', { 'x-request-id': 'x'.repeat(128) })).headers.get('x-request-id')).toBe('x'.repeat(128));
  });

  it('answers 413 with the error shape to a body over 1 MiB', async () => {
    const api = await startApi();
    const key = await newKey('admin');
    const res = await api.fetch('/api/v1/departments', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'BIG', name: 'x'.repeat(1024 * 1024 + 1) }),
    });
    expect(res.status).toBe(413);
    const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
    expect(body.error.code).toBe('FST_ERR_CTP_BODY_TOO_LARGE');
    expect(body.error.message).toMatch(/body is too large/i);
    expect(body.error.requestId).toBeTruthy();
  });

  it('counts requests and their latencies by route pattern and status in /metrics', async () => {
    const api = await startApi({ perMinute: 100, failedAuthPerMinute: 100 });
    const key = await newKey();
    await api.get('/api/v1/vehicles', { authorization: `Bearer ${key}` });
    await api.get('/api/v1/vehicles/00000000-0000-4000-8000-000000000000', { authorization: `Bearer ${key}` });
    await api.get('/nothing/here');
    const text = await (await api.get('/metrics')).text();
    expect(text).toMatch(/^armada_http_requests_total\{method="GET",route="\/api\/v1\/vehicles",status_code="200"\} 1$/m);
    expect(text).toMatch(/^armada_http_requests_total\{method="GET",route="\/api\/v1\/vehicles\/:id",status_code="404"\} 1$/m);
    expect(text).toMatch(/^armada_http_requests_total\{method="GET",route="unmatched",status_code="404"\} 1$/m);
    expect(text).toMatch(/^armada_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/vehicles",status_code="200"\} 1$/m);
    expect(text).not.toContain('00000000-0000-4000-8000-000000000000');
  });
});

/** A logger whose output the test reads. */
function capturingLogger() {
  const sink = { text: '' };
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      sink.text += chunk.toString();
      done();
    },
  });
  return { logger: createLogger('trace', stream), sink };
}

/** A raw TCP connection to the API; `closed` settles when the server closes it (or after `waitMs`, with false). */
async function rawSocket(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString()));
  socket.on('error', () => undefined); // a reset by the server is a close too
  const closedPromise = new Promise<true>((resolve) => socket.once('close', () => resolve(true)));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return {
    socket,
    received: () => received,
    closed: (waitMs: number) =>
      Promise.race([closedPromise, new Promise<false>((resolve) => setTimeout(() => resolve(false), waitMs).unref())]),
  };
}

/** Writes `text` a byte every `everyMs` until the socket closes or the text ends. */
function trickle(socket: net.Socket, text: string, everyMs = 100): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= text.length) {
      clearInterval(timer);
      return;
    }
    socket.write(text[i++]!);
  }, everyMs);
}

describe('HTTP timeouts and connection caps', () => {
  // Short limits; the waits below are generous multiples of them, and only ever bound how long a failure takes.
  const http = { requestTimeoutMs: 1500, headersTimeoutMs: 1000, keepAliveTimeoutMs: 500 };
  const GENEROUS_WAIT_MS = 20_000;

  it('closes a connection that sends its body a byte at a time, with a valid key or without one', async () => {
    const api = await startApi({ perMinute: 1000, failedAuthPerMinute: 1000 }, { http });
    const key = await newKey('admin');
    for (const auth of [`Authorization: Bearer ${key}\r\n`, '']) {
      const c = await rawSocket(api.port);
      const head = `POST /api/v1/departments HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n`;
      c.socket.write(head);
      trickle(c.socket, `{"code":"SLOW","name":"${'x'.repeat(99_970)}"}`);
      expect(await c.closed(GENEROUS_WAIT_MS), auth ? 'with a key' : 'without a key').toBe(true);
    }
    expect(await repos.departments.list({ departmentId: null }).then((d) => d.some((x) => x.code === 'SLOW'))).toBe(false);
  }, 60_000);

  it('closes a connection that sends its headers a byte at a time, or nothing at all', async () => {
    const api = await startApi({ perMinute: 1000, failedAuthPerMinute: 1000 }, { http });
    const slow = await rawSocket(api.port);
    trickle(slow.socket, `GET /api/v1/vehicles HTTP/1.1\r\nHost: x\r\n${'X-Pad: y\r\n'.repeat(1000)}\r\n`);
    const silent = await rawSocket(api.port);
    expect(await slow.closed(GENEROUS_WAIT_MS)).toBe(true);
    expect(await silent.closed(GENEROUS_WAIT_MS)).toBe(true);
  }, 60_000);

  it('closes an idle keep-alive connection after its request was answered', async () => {
    const api = await startApi({ perMinute: 1000, failedAuthPerMinute: 1000 }, { http });
    const c = await rawSocket(api.port);
    c.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await c.closed(GENEROUS_WAIT_MS)).toBe(true);
    expect(c.received()).toMatch(/^HTTP\/1\.1 200 /);
  }, 30_000);

  it('closes connections beyond the cap at once, and serves the ones it holds', async () => {
    const api = await startApi({ perMinute: 1000, failedAuthPerMinute: 1000 }, { http: { maxConnections: 2 } });
    const held = [await rawSocket(api.port), await rawSocket(api.port)];
    const extra = await rawSocket(api.port);
    expect(await extra.closed(GENEROUS_WAIT_MS)).toBe(true);
    expect(extra.received()).toBe('');
    held[0]!.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(await held[0]!.closed(GENEROUS_WAIT_MS)).toBe(true);
    expect(held[0]!.received()).toMatch(/^HTTP\/1\.1 200 /);
    held[1]!.socket.destroy();
  }, 60_000);

  it('caps live-feed connections per key (429 for one more); other keys are not affected', async () => {
    const live = createLiveHub({ logger: silentLogger });
    const api = await startApi({ perMinute: 1000, failedAuthPerMinute: 1000 }, { live, http: { liveConnectionsPerKey: 2 } });
    const [k1, k2] = [await newKey(), await newKey()];
    const open = (key: string) =>
      new Promise<{ ws: WebSocket; status: number }>((resolve) => {
        const ws = new WebSocket(`${api.base.replace('http', 'ws')}/api/v1/live`, { headers: { authorization: `Bearer ${key}` } });
        ws.on('error', () => undefined);
        ws.once('open', () => resolve({ ws, status: 101 }));
        ws.once('unexpected-response', (_req, res) => resolve({ ws, status: res.statusCode ?? 0 }));
      });
    const first = [await open(k1), await open(k1)];
    expect(first.map((c) => c.status)).toEqual([101, 101]);
    const third = await open(k1);
    expect(third.status).toBe(429);
    const other = await open(k2);
    expect(other.status).toBe(101);
    // Once one closes, the key may open another.
    first[0]!.ws.close();
    const k1Id = (await repos.apiKeys.findActiveByHash(hashApiKey(k1), new Date()))!.id;
    await waitFor(async () => live.connectionsOfKey(k1Id) < 2, 'the close');
    const again = await open(k1);
    expect(again.status).toBe(101);
    for (const c of [...first, third, other, again]) c.ws.terminate();
    live.close();
  }, 30_000);
});

describe('database outage', () => {
  it('answers 503 with Retry-After, and logs neither the key, nor its hash, nor any other query parameter', async () => {
    const { logger, sink } = capturingLogger();
    let database: Database;
    let outage: () => Promise<void>;
    let cleanup = async () => {};
    if (testDb.url) {
      // Real PostgreSQL behind a proxy the test takes down.
      const target = new URL(testDb.url);
      const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
      await proxy.start();
      const viaProxy = new URL(testDb.url);
      viaProxy.host = `127.0.0.1:${proxy.port}`;
      database = await openDatabase({ kind: 'postgres', url: viaProxy.toString(), logger: silentLogger });
      outage = () => proxy.down();
      cleanup = async () => {
        await database.close().catch(() => undefined);
        await proxy.stop();
      };
    } else {
      database = testDb.database;
      outage = async () => undefined; // replaced below: PGlite is "down" once closed
    }
    const key = generateApiKey();
    const outageRepos = testDb.url ? createRepositories(database) : repos;
    const keyRow = { name: 'outage', role: 'viewer' as const, departmentId: null, keyHash: hashApiKey(key), keyPrefix: apiKeyPrefix(key) };
    await outageRepos.apiKeys.create(keyRow);
    let pglite: Database | undefined;
    if (!testDb.url) {
      // PGlite: an own in-memory database, closed to make it unreachable.
      pglite = await openDatabase({ kind: 'pglite', dataDir: undefined, logger: silentLogger });
      await migrateDatabase(pglite);
      database = pglite;
      await createRepositories(pglite).apiKeys.create(keyRow);
      outage = () => pglite!.close();
    }
    const appRepos = createRepositories(database);
    const app = await buildApp({ database, repos: appRepos, services: createServices(appRepos), logger, now: () => new Date() });
    try {
      const headers = { authorization: `Bearer ${key}` };
      expect((await app.inject({ url: '/api/v1/vehicles', headers })).statusCode).toBe(200);
      await outage();
      for (const url of ['/api/v1/vehicles', '/api/v1/departments']) {
        const res = await app.inject({ url, headers });
        expect(res.statusCode, res.body).toBe(503);
        expect(res.headers['retry-after']).toBe('5');
        expect(res.json()).toMatchObject({ error: { code: 'database_unavailable', requestId: expect.any(String) } });
      }
      expect(sink.text).toContain('database unavailable');
      const secrets = [key, hashApiKey(key), hashApiKey(key).slice(0, 16), hashApiKey(key).slice(-16)];
      expect(secrets.filter((s) => sink.text.includes(s))).toEqual([]);
    } finally {
      await app.close();
      await cleanup();
    }
  });
});

describe('logs', () => {
  it('redact a token in the query string however its name is spelled or encoded', async () => {
    const { logger, sink } = capturingLogger();
    const app = await buildApp({ database: testDb.database, repos, services: createServices(repos), logger, now: () => new Date() });
    apps.push(app);
    const secret = `arm_${randomBytes(24).toString('base64url')}`;
    const queries = [`token=${secret}`, `%74oken=${secret}`, `TOKEN=${secret}`, `from=x&%54%6F%6B%65%6E=${secret}`];
    queries.push(`t%6fken=${secret}&token=${secret}`);
    for (const query of queries) {
      await app.inject({ url: `/api/v1/live?${query}` });
    }
    expect(sink.text).toContain('incoming request');
    expect(sink.text).toContain('[redacted]');
    expect(sink.text).not.toContain(secret.slice(4, 20));
  });

  it('never hold an API key, a device secret or its hash, at trace level', async () => {
    let captured = '';
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        captured += chunk.toString();
        done();
      },
    });
    const db = await createTestDatabase();
    const adminKey = `test-admin-${randomBytes(16).toString('hex')}`;
    const brokerUrl = realBrokerUrl();
    const config = loadConfig({
      HTTP_PORT: '0',
      MQTT_PORT: '0',
      ADMIN_API_KEY: adminKey,
      WORKER_ID: `t${randomBytes(4).toString('hex')}`,
      INGEST_BATCH_WAIT_MS: '10',
      ...(brokerUrl ? { MQTT_URL: brokerUrl } : {}),
    });
    const services = await startServices(
      config,
      { api: true, worker: true },
      { logger: createLogger('trace', sink), database: db.database },
    );
    const secrets: string[] = [adminKey];
    try {
      const api = (path: string, init: { method?: string; json?: unknown; key?: string } = {}) =>
        fetch(`${services.httpUrl}${path}`, {
          method: init.method ?? 'GET',
          headers: { authorization: `Bearer ${init.key ?? adminKey}`, ...(init.json ? { 'content-type': 'application/json' } : {}) },
          ...(init.json ? { body: JSON.stringify(init.json) } : {}),
        });
      const dep = (await (await api('/api/v1/departments', { method: 'POST', json: { code: 'LOG', name: 'Logs' } })).json()) as {
        id: string;
      };
      const created = (await (
        await api('/api/v1/api-keys', { method: 'POST', json: { name: 'logged?', role: 'manager', departmentId: dep.id } })
      ).json()) as { key: string };
      secrets.push(created.key);
      expect((await api('/api/v1/vehicles', { key: created.key })).status).toBe(200);
      const wrong = `arm_${randomBytes(32).toString('base64url')}`;
      secrets.push(wrong);
      expect((await api('/api/v1/vehicles', { key: wrong })).status).toBe(401);
      const vehicle = (await (
        await api('/api/v1/vehicles', {
          method: 'POST',
          key: created.key,
          json: {
            plateNumber: 'DH 4242 LG',
            departmentId: dep.id,
            kind: 'car',
            fuelType: 'pertalite',
            tankCapacityLitres: 40,
            ratedLitresPer100Km: 9,
            idleLitresPerHour: 0.7,
            monthlyAllocationLitres: 0, // a manager's vehicle starts without an allocation
          },
        })
      ).json()) as { id: string };
      const device = (await (
        await api('/api/v1/devices', { method: 'POST', key: created.key, json: { id: 'log-dev-1', vehicleId: vehicle.id } })
      ).json()) as { secret: string };
      secrets.push(device.secret);
      const rotated = (await (await api('/api/v1/devices/log-dev-1/rotate-secret', { method: 'POST', key: created.key })).json()) as {
        secret: string;
      };
      secrets.push(rotated.secret);
      secrets.push((await services.repos.devices.findIdentity('log-dev-1'))!.secretHash);
      // The device logs in and publishes; a wrong secret is tried too.
      const client = await connectDevice(services.deviceMqttUrl!, 'log-dev-1', rotated.secret);
      await client.publishAsync(telemetryTopic('log-dev-1'), JSON.stringify({ ts: new Date().toISOString(), lat: -10.17, lon: 123.6 }), {
        qos: 1,
      });
      await client.endAsync();
      await connectDevice(services.deviceMqttUrl!, 'log-dev-1', device.secret).then(
        (c) => c.endAsync(),
        () => undefined,
      );
      // The live feed with ?token=, as browsers open it.
      const ws = new WebSocket(`${services.httpUrl!.replace('http', 'ws')}/api/v1/live?token=${encodeURIComponent(created.key)}`);
      const first = await new Promise<string>((resolve, reject) => {
        ws.once('message', (data) => resolve(data.toString()));
        ws.once('error', reject);
      });
      expect(JSON.parse(first)).toMatchObject({ type: 'snapshot' });
      ws.close();
      await waitFor(async () => captured.includes('/api/v1/live?token=[redacted]'), 'the live request in the log');
    } finally {
      await services.close();
      await db.drop();
    }
    expect(captured).toContain('incoming request');
    expect(captured).toContain('"url":"/api/v1/devices/log-dev-1/rotate-secret"');
    const found = secrets.flatMap((s) => [s, s.slice(0, 16), s.slice(-16)]).filter((s) => captured.includes(s));
    expect(found).toEqual([]);
  });
});
