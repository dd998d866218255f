/**
 * `armada doctor`: looks the installation over and says what is wrong and how to fix it.
 * Checks, in order: the configuration; the database (PostgreSQL: reachable, migrated to
 * the newest migration, telemetry partitions for this month and the next two, the
 * server's clock against ours; embedded: the data directory, its permissions and lock,
 * then the same database checks when no process holds it); the broker (MQTT_URL:
 * reachable, the worker's credentials accepted, its subscriptions to the telemetry topics
 * granted; with --mosquitto-passwd/--mosquitto-acl, the files mosquitto-auth writes).
 * Any failed check makes the exit code 1 (docs/operations.md).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { openDatabase, type Database } from '../db/client.js';
import { DataDirLockedError } from '../db/data-dir-lock.js';
import { databaseFacts, whyNoAnswer } from '../db/inspect.js';
import { migrationsFolder } from '../db/migrate.js';
import { addUtcMonths, partitionName, utcMonthOf } from '../domain/retention.js';
import { OWNTRACKS_SUBSCRIPTION, TELEMETRY_SUBSCRIPTION } from '../domain/topics.js';
import { leftBehindAfterS } from '../ingest/state-behind.js';
import { ingestStateRepository } from '../repositories/ingest-state.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** How to fix it, when it failed. */
  fix?: string;
}

export interface DoctorOptions {
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Mosquitto files written by `mosquitto-auth`, to check. */
  mosquittoPasswd?: string;
  mosquittoAcl?: string;
  /** Largest tolerated difference between our clock and PostgreSQL's. */
  maxClockSkewMs?: number;
  /** How long the broker may take to answer. */
  brokerTimeoutMs?: number;
}

const redact = (url: string): string => {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
};

function newestJournalEntry(): { count: number; when: number; tag: string } {
  const journal = JSON.parse(readFileSync(join(migrationsFolder(), 'meta', '_journal.json'), 'utf8')) as {
    entries: Array<{ when: number; tag: string }>;
  };
  const last = journal.entries[journal.entries.length - 1]!;
  return { count: journal.entries.length, when: last.when, tag: last.tag };
}

async function databaseChecks(database: Database, config: Config, options: DoctorOptions, checks: Check[]): Promise<void> {
  const facts = await databaseFacts(database);
  const expected = newestJournalEntry();
  const migrated = facts.appliedMigrations >= expected.count && (facts.newestMigrationWhen ?? 0) >= expected.when;
  checks.push(
    migrated
      ? { name: 'migrations', ok: true, detail: `migrated to ${expected.tag} (${facts.appliedMigrations} applied)` }
      : {
          name: 'migrations',
          ok: false,
          detail: `${facts.appliedMigrations} of ${expected.count} migrations applied; the newest, ${expected.tag}, is missing`,
          fix: 'run `tsx src/cli.ts migrate` (or start the service once: it migrates at start)',
        },
  );
  const nowMs = Date.now();
  const wanted = [0, 1, 2].map((n) => partitionName(addUtcMonths(utcMonthOf(nowMs), n)));
  const missing = wanted.filter((p) => !facts.partitions.includes(p));
  checks.push(
    missing.length === 0
      ? { name: 'partitions', ok: true, detail: `telemetry partitions ready ahead: ${wanted.join(', ')}` }
      : {
          name: 'partitions',
          ok: false,
          detail: `telemetry partitions missing: ${missing.join(', ')} (readings would wait on DDL, or fail if it cannot run)`,
          fix: 'run `tsx src/cli.ts migrate`: it creates the partitions from last month to three months ahead (every start does too)',
        },
  );
  if (migrated) {
    // Written behind the readings (src/ingest/state-behind.ts): a running worker adds its
    // own at each flush, and anyone's left-behind rows at its next start or sweep.
    const backlog = await ingestStateRepository(database).backlog();
    const stale = backlog.oldestAgeS !== null && backlog.oldestAgeS > 4 * leftBehindAfterS(config.ingestStateFlushMs);
    checks.push(
      stale
        ? {
            name: 'ingest state',
            ok: false,
            detail: `${backlog.rows} stored batch(es) whose device figures and latest positions are not written, the oldest ${Math.round(backlog.oldestAgeS!)} s ago: no ingest worker has run since one stopped`,
            fix: 'start an ingest worker (tsx src/cli.ts worker, or the service): it adds them before its first batch',
          }
        : { name: 'ingest state', ok: true, detail: `latest positions and device figures up to date (${backlog.rows} batch(es) waiting)` },
    );
  }
  if (database.kind === 'postgres') {
    const skewMs = Math.abs(facts.serverNowMs - Date.now());
    const limit = options.maxClockSkewMs ?? 5000;
    checks.push(
      skewMs <= limit
        ? { name: 'clock', ok: true, detail: `our clock and PostgreSQL's agree within ${Math.round(skewMs)} ms` }
        : {
            name: 'clock',
            ok: false,
            detail: `our clock and PostgreSQL's differ by ${Math.round(skewMs / 1000)} s (limit ${limit / 1000} s): report days, late-data marks and the future-timestamp filter compare them`,
            fix: 'run NTP (chrony or systemd-timesyncd) on both machines',
          },
    );
  }
  void config;
}

function dataDirChecks(dataDir: string, checks: Check[]): boolean {
  if (!existsSync(dataDir)) {
    checks.push({
      name: 'data directory',
      ok: false,
      detail: `DATA_DIR ${dataDir} does not exist`,
      fix: `start the service once (it creates it), or mkdir -m 700 ${dataDir}; or set DATA_DIR to where the data is`,
    });
    return false;
  }
  const st = statSync(dataDir);
  if (!st.isDirectory()) {
    checks.push({
      name: 'data directory',
      ok: false,
      detail: `DATA_DIR ${dataDir} is not a directory`,
      fix: 'point DATA_DIR at a directory',
    });
    return false;
  }
  const mode = st.mode & 0o777;
  checks.push(
    mode & 0o077
      ? {
          name: 'data directory',
          ok: false,
          detail: `DATA_DIR ${dataDir} has mode ${mode.toString(8)}: others can read the fleet's data`,
          fix: `chmod -R go-rwx ${dataDir}`,
        }
      : { name: 'data directory', ok: true, detail: `DATA_DIR ${dataDir} exists, mode ${mode.toString(8).padStart(4, '0')}` },
  );
  return true;
}

/** Connects as the worker does, and asks for the worker's subscriptions. */
async function brokerChecks(url: string, timeoutMs: number, checks: Check[]): Promise<void> {
  const shown = redact(url);
  let client: mqtt.MqttClient | undefined;
  try {
    client = await new Promise<mqtt.MqttClient>((resolve, reject) => {
      const c = mqtt.connect(url, {
        clientId: `armada-doctor-${process.pid}`,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: timeoutMs,
        // MQTT 5: a broker may say in the SUBACK that its ACL denies a subscription (0x87).
        // Mosquitto grants it anyway and filters on delivery: its ACL file is checked apart.
        protocolVersion: 5,
      });
      const timer = setTimeout(() => {
        c.end(true);
        reject(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs + 500);
      c.once('connect', () => {
        clearTimeout(timer);
        resolve(c);
      });
      c.once('error', (err) => {
        clearTimeout(timer);
        c.end(true);
        reject(err);
      });
      c.once('close', () => {
        clearTimeout(timer);
        reject(new Error('the broker closed the connection'));
      });
    });
  } catch (err) {
    const e = err as Error & { code?: number | string };
    // CONNACK 4/5 (3.1.1) or 0x86/0x87 (5): bad user name or password, not authorised.
    const refused = [4, 5, 0x86, 0x87].includes(Number(e.code)) || /not authori[sz]ed|bad user ?name or password/i.test(e.message);
    checks.push(
      refused
        ? {
            name: 'broker',
            ok: false,
            detail: `the broker at ${shown} refused the worker's credentials: ${e.message}`,
            fix: "put the service user's name and password in MQTT_URL (mqtt://armada:PASSWORD@host:1883); on Mosquitto, write them with `tsx src/cli.ts mosquitto-auth --service-passwd …` and reload it",
          }
        : {
            name: 'broker',
            ok: false,
            detail: `cannot reach the broker at ${shown}: ${e.message}`,
            fix: 'start the broker, or correct the host and port in MQTT_URL',
          },
    );
    return;
  }
  checks.push({ name: 'broker', ok: true, detail: `connected to ${shown} with the worker's credentials` });
  try {
    const granted = await client.subscribeAsync([TELEMETRY_SUBSCRIPTION, OWNTRACKS_SUBSCRIPTION], { qos: 1 });
    const denied = granted.filter((g) => g.qos >= 0x80);
    checks.push(
      denied.length === 0
        ? {
            name: 'broker ACL',
            ok: true,
            detail: `the broker granted the worker's subscriptions to ${TELEMETRY_SUBSCRIPTION} and ${OWNTRACKS_SUBSCRIPTION} (Mosquitto grants every subscription and filters on delivery: give --mosquitto-acl to check its ACL file)`,
          }
        : {
            name: 'broker ACL',
            ok: false,
            detail: `the broker denied the worker's subscription to ${denied.map((d) => d.topic).join(', ')}: no telemetry would arrive`,
            fix: 'grant the service user `topic read fleet/v1/devices/+/telemetry` and `topic read owntracks/#` (deploy/mosquitto/acl; `tsx src/cli.ts mosquitto-auth` writes it)',
          },
    );
  } finally {
    await client.endAsync(true).catch(() => undefined);
  }
}

function mosquittoFileChecks(passwd: string | undefined, acl: string | undefined, serviceUser: string | undefined, checks: Check[]): void {
  if (passwd) {
    if (!existsSync(passwd)) {
      checks.push({
        name: 'mosquitto password file',
        ok: false,
        detail: `${passwd} does not exist`,
        fix: 'write it: tsx src/cli.ts mosquitto-auth --passwd FILE --acl FILE',
      });
    } else {
      const mode = statSync(passwd).mode & 0o777;
      checks.push(
        mode & 0o002
          ? {
              name: 'mosquitto password file',
              ok: false,
              detail: `${passwd} is writable by everyone (mode ${mode.toString(8)})`,
              fix: `chmod o-w ${passwd}`,
            }
          : { name: 'mosquitto password file', ok: true, detail: `${passwd} present (mode ${mode.toString(8)})` },
      );
    }
  }
  if (acl) {
    if (!existsSync(acl)) {
      checks.push({
        name: 'mosquitto ACL file',
        ok: false,
        detail: `${acl} does not exist`,
        fix: 'write it: tsx src/cli.ts mosquitto-auth --passwd FILE --acl FILE',
      });
      return;
    }
    const lines = readFileSync(acl, 'utf8')
      .split('\n')
      .map((l) => l.trim());
    const user = serviceUser ?? 'armada';
    const at = lines.indexOf(`user ${user}`);
    const grants = at >= 0 ? lines.slice(at + 1, lines.findIndex((l, i) => i > at && /^(user|pattern)\b/.test(l)) >>> 0) : [];
    const needed = [`topic read ${TELEMETRY_SUBSCRIPTION}`, `topic read ${OWNTRACKS_SUBSCRIPTION}`];
    const absent = needed.filter((n) => !grants.some((g) => g === n || g === n.replace('topic read', 'topic readwrite')));
    const devicesWrite = lines.includes('pattern write fleet/v1/devices/%u/telemetry');
    checks.push(
      at < 0 || absent.length > 0 || !devicesWrite
        ? {
            name: 'mosquitto ACL file',
            ok: false,
            detail:
              at < 0
                ? `${acl} has no section for the service user ${user}`
                : absent.length > 0
                  ? `${acl} does not grant ${user}: ${absent.join('; ')}`
                  : `${acl} does not let devices publish on their telemetry topic (pattern write fleet/v1/devices/%u/telemetry)`,
            fix: `rewrite it with tsx src/cli.ts mosquitto-auth --acl ${acl} --service-user ${user} …, then reload Mosquitto (SIGHUP)`,
          }
        : { name: 'mosquitto ACL file', ok: true, detail: `${acl} grants ${user} the telemetry topics and devices their own` },
    );
  }
}

export async function runDoctor(options: DoctorOptions): Promise<Check[]> {
  const checks: Check[] = [];
  let config: Config;
  try {
    config = loadConfig(options.env);
    checks.push({ name: 'configuration', ok: true, detail: 'the environment is a valid configuration' });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    checks.push({
      name: 'configuration',
      ok: false,
      detail: err.message,
      fix: 'correct the variables named (docs/configuration.md lists each)',
    });
    return checks;
  }

  // The database.
  let database: Database | undefined;
  if (config.databaseUrl) {
    try {
      database = await openDatabase({ kind: 'postgres', url: config.databaseUrl, logger: options.logger, poolSize: 1 });
      const err = await whyNoAnswer(database);
      if (err) throw err;
      checks.push({ name: 'postgresql', ok: true, detail: `reachable at ${redact(config.databaseUrl)}` });
    } catch (err) {
      await database?.close().catch(() => undefined);
      database = undefined;
      checks.push({
        name: 'postgresql',
        ok: false,
        detail: `cannot use ${redact(config.databaseUrl)}: ${(err as Error).message}`,
        fix: 'check DATABASE_URL (host, port, user, password, database name) and that PostgreSQL is running and accepts this user from here (pg_hba.conf)',
      });
    }
  } else if (dataDirChecks(config.dataDir, checks)) {
    if (!existsSync(join(config.dataDir, 'pgdata'))) {
      // Not opened: opening would create an empty database here.
      checks.push({
        name: 'migrations',
        ok: false,
        detail: `DATA_DIR ${config.dataDir} holds no database yet`,
        fix: 'start the service once, or run `tsx src/cli.ts migrate`; or set DATA_DIR to where the data is',
      });
    } else
      try {
        database = await openDatabase({ kind: 'pglite', dataDir: config.dataDir, logger: options.logger });
        checks.push({ name: 'data directory lock', ok: true, detail: 'no other process holds it; the embedded database opens' });
      } catch (err) {
        if (!(err instanceof DataDirLockedError)) throw err;
        checks.push({
          name: 'data directory lock',
          ok: true,
          detail: `held by the running service${err.pid ? ` (pid ${err.pid})` : ''}: its database is checked by its /readyz, not here`,
        });
      }
  }
  if (database) {
    try {
      await databaseChecks(database, config, options, checks);
    } finally {
      await database.close();
    }
  }

  // The broker.
  if (config.mqttUrl) {
    await brokerChecks(config.mqttUrl, options.brokerTimeoutMs ?? 5000, checks);
    const user = (() => {
      try {
        return decodeURIComponent(new URL(config.mqttUrl).username) || undefined;
      } catch {
        return undefined;
      }
    })();
    mosquittoFileChecks(options.mosquittoPasswd, options.mosquittoAcl, user, checks);
  } else {
    checks.push({
      name: 'broker',
      ok: true,
      detail: `embedded (no MQTT_URL): the service opens it on ${config.mqttHost}:${config.mqttPort} and authenticates devices itself`,
    });
  }
  return checks;
}

export function describeChecks(checks: readonly Check[]): string {
  const lines = checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}${c.ok || !c.fix ? '' : `\n      fix: ${c.fix}`}`);
  const failed = checks.filter((c) => !c.ok).length;
  lines.push(failed === 0 ? 'armada doctor: all checks passed' : `armada doctor: ${failed} check(s) failed`);
  return `${lines.join('\n')}\n`;
}
