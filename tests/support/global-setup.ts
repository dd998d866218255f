/**
 * Decides once per run which real stores the integration tests use, and prepares them:
 *
 *  - TEST_DATABASE_URL / TEST_MQTT_URL: the servers they name (CI points them at the
 *    machine's PostgreSQL and Mosquitto);
 *  - otherwise, if a container runtime answers, testcontainers starts PostgreSQL 15
 *    and Mosquitto 2;
 *  - otherwise PGlite and the embedded broker, so a fresh machine with nothing
 *    installed still runs the whole suite.
 *
 * On PostgreSQL the schema is migrated once into a template database; each test file
 * then gets its own database cloned from it (CREATE DATABASE … TEMPLATE), which takes
 * milliseconds and keeps files from seeing each other's rows.
 */
import type { TestProject } from 'vitest/node';
import pg from 'pg';
import { pino } from 'pino';
import { openDatabase } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the PostgreSQL server, or '' for PGlite. */
    pgAdminUrl: string;
    /** The migrated template database to clone, or ''. */
    pgTemplate: string;
    /** A real broker's URL, or '' for the embedded broker. */
    mqttUrl: string;
    /** What the run uses, for the log. */
    storesLabel: string;
  }
}

async function containerRuntimeAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export default async function setup(project: TestProject) {
  const teardowns: Array<() => Promise<void>> = [];
  let pgAdminUrl = process.env.TEST_DATABASE_URL ?? '';
  let mqttUrl = process.env.TEST_MQTT_URL ?? '';
  let source = 'environment';

  if ((!pgAdminUrl || !mqttUrl) && !process.env.TEST_NO_CONTAINERS && (await containerRuntimeAnswers())) {
    source = 'testcontainers';
    if (!pgAdminUrl) {
      const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
      const container = await new PostgreSqlContainer('postgres:15').start();
      teardowns.push(async () => void (await container.stop()));
      pgAdminUrl = container.getConnectionUri();
    }
    if (!mqttUrl) {
      const { GenericContainer, Wait } = await import('testcontainers');
      const container = await new GenericContainer('eclipse-mosquitto:2.0')
        .withCommand(['mosquitto', '-c', '/mosquitto-no-auth.conf'])
        .withExposedPorts(1883)
        .withWaitStrategy(Wait.forListeningPorts())
        .start();
      teardowns.push(async () => void (await container.stop()));
      mqttUrl = `mqtt://${container.getHost()}:${container.getMappedPort(1883)}`;
    }
  }

  let pgTemplate = '';
  if (pgAdminUrl) {
    pgTemplate = `armada_tmpl_${process.pid}_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: pgAdminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${pgTemplate}`);
    await admin.end();
    const logger = pino({ level: 'silent' });
    const database = await openDatabase({ kind: 'postgres', url: withDatabase(pgAdminUrl, pgTemplate), logger });
    await migrateDatabase(database);
    await database.close();
    teardowns.push(async () => {
      const c = new pg.Client({ connectionString: pgAdminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${pgTemplate} WITH (FORCE)`);
      await c.end();
    });
  }

  const storesLabel = `${pgAdminUrl ? `PostgreSQL (${source})` : 'PGlite'} + ${mqttUrl ? `MQTT broker (${source})` : 'embedded broker'}`;
  process.stdout.write(`\nTest stores: ${storesLabel}\n`);
  project.provide('pgAdminUrl', pgAdminUrl);
  project.provide('pgTemplate', pgTemplate);
  project.provide('mqttUrl', mqttUrl);
  project.provide('storesLabel', storesLabel);

  return async () => {
    for (const t of teardowns.reverse()) await t().catch(() => undefined);
  };
}
