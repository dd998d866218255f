/**
 * Readiness in every process: the API (`api`), the worker (`worker`, on METRICS_PORT) and
 * both (`start`) answer /readyz 503 while the database or the broker is away, and 200
 * again once they are back. And the API alone stops cleanly on SIGTERM (exit 0).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/client.js';
import { startServices, type Roles } from '../../src/runtime.js';
import { freePort, runCli } from '../support/process.js';
import { waitFor } from '../support/service.js';
import { createTestDatabase, realBrokerUrl, realPostgresConfigured, silentLogger } from '../support/stores.js';
import { TcpProxy } from '../support/tcp-proxy.js';

type Ready = { status: number; checks: Record<string, boolean> };
const readyz = async (base: string): Promise<Ready> => {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, checks: ((await res.json()) as { checks?: Record<string, boolean> }).checks ?? {} };
};

describe.runIf(realPostgresConfigured() && realBrokerUrl() !== undefined)('readiness follows the database and the broker', () => {
  const roles: Array<[string, Roles]> = [
    ['api', { api: true, worker: false }],
    ['worker', { api: false, worker: true }],
    ['start', { api: true, worker: true }],
  ];
  for (const [name, role] of roles) {
    it(`in the ${name} process`, async () => {
      const testDb = await createTestDatabase();
      const pgUrl = new URL(testDb.url!);
      const brokerUrl = new URL(realBrokerUrl()!);
      const dbProxy = new TcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
      const mqttProxy = new TcpProxy(brokerUrl.hostname, Number(brokerUrl.port || 1883));
      await dbProxy.start();
      await mqttProxy.start();
      const viaDb = new URL(pgUrl);
      viaDb.hostname = '127.0.0.1';
      viaDb.port = String(dbProxy.port);
      const viaBroker = new URL(brokerUrl);
      viaBroker.hostname = '127.0.0.1';
      viaBroker.port = String(mqttProxy.port);
      const database = await openDatabase({ kind: 'postgres', url: viaDb.toString(), logger: silentLogger });
      const metricsPort = await freePort();
      const services = await startServices(
        loadConfig({
          DATABASE_URL: viaDb.toString(),
          MQTT_URL: viaBroker.toString(),
          HTTP_PORT: '0',
          METRICS_PORT: String(metricsPort),
          WORKER_ID: `ready-${name}-${metricsPort}`,
          INGEST_SUBSCRIPTIONS: 'per-device',
        }),
        role,
        { logger: silentLogger, database },
      );
      try {
        const base = services.httpUrl!;
        expect(await readyz(base)).toMatchObject({ status: 200 });
        const brokerChecks = Object.keys((await readyz(base)).checks).filter((k) => k !== 'database');
        expect(brokerChecks.length, 'a broker check').toBeGreaterThan(0);

        await dbProxy.down();
        const noDb = await waitFor(async () => {
          const r = await readyz(base);
          return r.status === 503 ? r : undefined;
        }, 'readiness to see the database gone');
        expect(noDb.checks.database).toBe(false);
        await dbProxy.up();
        await waitFor(async () => (await readyz(base)).status === 200, 'ready again with the database back');

        await mqttProxy.down();
        const noBroker = await waitFor(async () => {
          const r = await readyz(base);
          return r.status === 503 ? r : undefined;
        }, 'readiness to see the broker gone');
        expect(noBroker.checks.database).toBe(true);
        expect(brokerChecks.some((k) => noBroker.checks[k] === false)).toBe(true);
        await mqttProxy.up();
        await waitFor(async () => (await readyz(base)).status === 200, 'ready again with the broker back', 60_000);
      } finally {
        await services.close();
        await database.close();
        await dbProxy.stop();
        await mqttProxy.stop();
        await testDb.drop();
      }
    }, 180_000);
  }
});

describe('the API alone shuts down gracefully', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('answers /readyz, then stops on SIGTERM with exit code 0', async () => {
    const port = await freePort();
    const testDb = realPostgresConfigured() ? await createTestDatabase() : undefined;
    const dataDir = mkdtempSync(join(tmpdir(), 'armada-api-'));
    dirs.push(dataDir);
    const broker = realBrokerUrl();
    const api = runCli('api', {
      HTTP_PORT: String(port),
      LOG_LEVEL: 'info',
      ...(testDb ? { DATABASE_URL: testDb.url! } : { DATA_DIR: dataDir }),
      ...(broker ? { MQTT_URL: broker } : {}),
    });
    try {
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
        'the API to be ready',
        120_000,
      );
      api.child.kill('SIGTERM');
      expect(await api.exited, api.output()).toBe(0);
      expect(api.output()).toContain('shutting down');
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    } finally {
      if (api.child.exitCode === null) api.child.kill('SIGKILL');
      await testDb?.drop();
    }
  }, 180_000);
});
