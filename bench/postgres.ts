/**
 * The benchmark's PostgreSQL: a fresh database per run on the server named by
 * BENCH_DATABASE_URL, migrated with Armada's own migrations, seeded with a fleet by
 * plain SQL, and dropped at the end, so a run neither sees nor leaves other data.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { openDatabase, type Database } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { hashDeviceSecret } from '../src/security/secrets.js';

export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export function adminUrl(): string {
  return process.env.BENCH_DATABASE_URL || DEFAULT_ADMIN_URL;
}

/** The URL without its password, for messages. */
export function describeUrl(url: string): string {
  const u = new URL(url);
  u.password = '';
  return u.toString();
}

async function withAdmin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, application_name: 'armada-bench' });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${describeUrl(url)} (${(err as Error).message}). Start it (pg_isready -h 127.0.0.1) or set BENCH_DATABASE_URL to a server where this user may create databases.`,
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface PostgresInfo {
  version: string;
  /** Commit latency, and so batch throughput, depends on it. */
  synchronousCommit: string;
}

export function postgresInfo(url: string): Promise<PostgresInfo> {
  return withAdmin(url, async (client) => {
    const version = await client.query<{ server_version: string }>('SHOW server_version');
    const sync = await client.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
    return { version: version.rows[0]!.server_version, synchronousCommit: sync.rows[0]!.synchronous_commit };
  });
}

/**
 * Writes out what earlier benchmarks left dirty in the server's buffers (the analytics
 * one writes ~600,000 rows), so that checkpoint I/O does not land in the next one's
 * measurement. Seen: a live-feed p99 of 816 ms right after the analytics bench, 131-143 ms
 * when run alone. Needs a superuser (or pg_checkpoint); without one the bench goes on.
 */
export async function checkpoint(url: string): Promise<boolean> {
  try {
    await withAdmin(url, (client) => client.query('CHECKPOINT'));
    return true;
  } catch {
    return false;
  }
}

export interface BenchDatabase {
  name: string;
  url: string;
  /** The bench's own connection, for seeding and checking. */
  database: Database;
  drop(): Promise<void>;
}

export async function createBenchDatabase(admin: string, logger: Logger): Promise<BenchDatabase> {
  const name = `armada_bench_${Date.now()}`;
  await withAdmin(admin, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const drop = () => withAdmin(admin, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined);
  let database: Database | undefined;
  try {
    database = await openDatabase({ kind: 'postgres', url: url.toString(), logger });
    await migrateDatabase(database);
  } catch (err) {
    await database?.close().catch(() => undefined);
    await drop();
    throw err;
  }
  const opened = database;
  return {
    name,
    url: url.toString(),
    database: opened,
    async drop() {
      await opened.close().catch(() => undefined);
      await drop();
    },
  };
}

export function benchDeviceId(index: number): string {
  return `bench-${String(index + 1).padStart(5, '0')}`;
}

/**
 * One vehicle per device, a hundred vehicles per department, written with `unnest`:
 * the registry API would take minutes for 10,000 devices and is not what is measured.
 */
export async function seedFleet(database: Database, deviceCount: number): Promise<string[]> {
  const departmentCount = Math.max(1, Math.ceil(deviceCount / 100));
  const departments = await database.query<{ id: string }>(
    `INSERT INTO departments (code, name)
     SELECT 'BENCH-' || g, 'Bench department ' || g FROM generate_series(1, $1::int) AS g
     RETURNING id`,
    [departmentCount],
  );
  const deviceIds = Array.from({ length: deviceCount }, (_, i) => benchDeviceId(i));
  const plates = deviceIds.map((_, i) => `DH ${i + 1} BN`);
  const vehicleDepartments = deviceIds.map((_, i) => departments[i % departments.length]!.id);
  const vehicles = await database.query<{ id: string; plate_number: string }>(
    `INSERT INTO vehicles (plate_number, department_id, kind, fuel_type, tank_capacity_litres,
       rated_litres_per_100km, idle_litres_per_hour, monthly_allocation_litres)
     SELECT plate, department, 'pickup', 'solar', 80, 12, 1.5, 400
     FROM unnest($1::text[], $2::uuid[]) AS v(plate, department)
     RETURNING id, plate_number`,
    [plates, vehicleDepartments],
  );
  const vehicleByPlate = new Map(vehicles.map((v) => [v.plate_number, v.id]));
  await database.query(
    `INSERT INTO devices (id, vehicle_id, secret_hash)
     SELECT id, vehicle, $3 FROM unnest($1::text[], $2::uuid[]) AS d(id, vehicle)`,
    // One real hash for all: the broker here does not authenticate, and PBKDF2 per device would only slow the seeding.
    [deviceIds, plates.map((p) => vehicleByPlate.get(p)!), hashDeviceSecret('bench-device-secret')],
  );
  return deviceIds;
}
