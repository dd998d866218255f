/**
 * `armada doctor`: each failing check names what is wrong and how to fix it, and a healthy
 * installation passes (exit code 0 from the command line, 1 when something failed).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { runDoctor, type Check } from '../../src/ops/doctor.js';
import { projectRoot } from '../support/process.js';
import { createTestDatabase, realBrokerUrl, realPostgresConfigured, silentLogger } from '../support/stores.js';
import { freePort } from '../support/process.js';
import { canConnect, MOSQUITTO_BIN, mosquittoAvailable } from '../../bench/mosquitto.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'armada-doctor-'));
  dirs.push(d);
  return d;
};

const doctor = (env: Record<string, string>, extra: { mosquittoAcl?: string } = {}) =>
  runDoctor({ env, logger: silentLogger, brokerTimeoutMs: 2000, ...extra });
const failed = (checks: Check[]) => checks.filter((c) => !c.ok).map((c) => c.name);

function cli(env: Record<string, string>): Promise<{ code: number; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'doctor'], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code: code ?? -1, out })));
}

describe('doctor', () => {
  it('reports a configuration that does not load, and the variable', async () => {
    const checks = await doctor({ DATABASE_URL: 'mysql://nope', DATA_DIR: tempDir() });
    expect(failed(checks)).toEqual(['configuration']);
    expect(checks[0]!.detail).toContain('DATABASE_URL');
  });

  it('reports a DATABASE_URL nobody answers, with the fix', async () => {
    const port = await freePort();
    const checks = await doctor({ DATABASE_URL: `postgres://postgres:secret@127.0.0.1:${port}/armada` });
    expect(failed(checks)).toEqual(['postgresql']);
    const c = checks.find((x) => x.name === 'postgresql')!;
    expect(c.detail).not.toContain('secret');
    expect(c.fix).toContain('DATABASE_URL');
  });

  it('reports a broker that does not answer', { timeout: 300_000 }, async () => {
    const port = await freePort();
    const checks = await doctor({ DATA_DIR: tempDir(), MQTT_URL: `mqtt://armada:pw@127.0.0.1:${port}` });
    expect(failed(checks)).toContain('broker');
    expect(checks.find((c) => c.name === 'broker')!.fix).toContain('MQTT_URL');
  });

  it('reports a data directory others may read, and an ACL file without the worker', async () => {
    const dataDir = tempDir();
    chmodSync(dataDir, 0o755);
    const acl = join(tempDir(), 'acl');
    writeFileSync(acl, 'user someone\ntopic read #\n');
    const broker = realBrokerUrl();
    const checks = await doctor({ DATA_DIR: dataDir, ...(broker ? { MQTT_URL: broker } : {}) }, { mosquittoAcl: acl });
    expect(failed(checks)).toContain('data directory');
    expect(checks.find((c) => c.name === 'data directory')!.fix).toContain('chmod');
    if (broker) expect(failed(checks)).toContain('mosquitto ACL file');
  }, 300_000);

  it('passes a healthy embedded installation (exit 0), and fails an unmigrated one (exit 1)', async () => {
    const dataDir = tempDir();
    chmodSync(dataDir, 0o700);
    const fresh = await cli({ DATA_DIR: dataDir });
    expect(fresh.out).toContain('FAIL  migrations');
    expect(fresh.code).toBe(1);
    const database = await openDatabase({ kind: 'pglite', dataDir, logger: silentLogger });
    await migrateDatabase(database);
    await database.close();
    const healthy = await cli({ DATA_DIR: dataDir });
    expect(healthy.out).toContain('all checks passed');
    expect(healthy.code).toBe(0);
  }, 300_000);
});

describe.runIf(realPostgresConfigured())('doctor on PostgreSQL', () => {
  it('fails an unmigrated database and passes a migrated one with the broker', async () => {
    const name = `armada_d_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
    await admin.connect();
    const migrated = await createTestDatabase();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
      const url = new URL(inject('pgAdminUrl'));
      url.pathname = `/${name}`;
      const empty = await doctor({ DATABASE_URL: url.toString() });
      expect(failed(empty)).toEqual(['migrations', 'partitions']);
      expect(empty.find((c) => c.name === 'migrations')!.fix).toContain('migrate');
      const broker = realBrokerUrl();
      const healthy = await cli({ DATABASE_URL: migrated.url!, ...(broker ? { MQTT_URL: broker } : {}) });
      expect(healthy.out).toContain('ok    clock');
      if (broker) expect(healthy.out).toContain('ok    broker ACL');
      expect(healthy.out).toContain('all checks passed');
      expect(healthy.code).toBe(0);
      // A worker killed with state unwritten, and none started since.
      await migrated.database.query(`INSERT INTO ingest_unflushed (created_at, figures) VALUES (now() - interval '10 minutes', '[]')`);
      const stale = await doctor({ DATABASE_URL: migrated.url! });
      expect(failed(stale)).toEqual(['ingest state']);
      expect(stale.find((c) => c.name === 'ingest state')!.fix).toContain('start an ingest worker');
    } finally {
      await migrated.drop();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  }, 300_000);
});

describe.runIf(mosquittoAvailable())('doctor against a Mosquitto with passwords and an ACL', () => {
  let proc: ChildProcess | undefined;
  afterAll(() => {
    proc?.kill('SIGTERM');
  });

  it('names refused credentials, and an ACL file that does not grant the worker the telemetry', async () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const port = await freePort();
    const passwd = join(dir, 'passwd');
    execFileSync('mosquitto_passwd', ['-b', '-c', passwd, 'armada', 'right-password']);
    chmodSync(passwd, 0o644);
    const acl = join(dir, 'acl');
    // The service user may use the live topics but was never granted the telemetry.
    writeFileSync(acl, 'user armada\ntopic readwrite fleet/v1/live/#\n', { mode: 0o644 });
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(
      conf,
      [`listener ${port} 127.0.0.1`, 'allow_anonymous false', `password_file ${passwd}`, `acl_file ${acl}`, 'persistence false', ''].join(
        '\n',
      ),
      { mode: 0o644 },
    );
    proc = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !(await canConnect(port)); i++) await new Promise((r) => setTimeout(r, 25));
    const dataDir = tempDir();
    chmodSync(dataDir, 0o700);

    const wrong = await doctor({ DATA_DIR: dataDir, MQTT_URL: `mqtt://armada:wrong-password@127.0.0.1:${port}` });
    const refused = wrong.find((c) => c.name === 'broker')!;
    expect(refused.ok).toBe(false);
    expect(refused.detail).toContain('refused the worker');
    expect(refused.detail).not.toContain('wrong-password');

    const right = await doctor({ DATA_DIR: dataDir, MQTT_URL: `mqtt://armada:right-password@127.0.0.1:${port}` }, { mosquittoAcl: acl });
    expect(right.find((c) => c.name === 'broker')!.ok).toBe(true);
    // Mosquitto grants the subscription and filters on delivery; its ACL file tells.
    const file = right.find((c) => c.name === 'mosquitto ACL file')!;
    expect(file.ok).toBe(false);
    expect(file.detail).toContain('topic read fleet/v1/devices/+/telemetry');
    expect(failed(right).filter((n) => n.startsWith('broker') || n.startsWith('mosquitto'))).toEqual(['mosquitto ACL file']);
  }, 300_000);
});
