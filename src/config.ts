import { isIP } from 'node:net';
import { z } from 'zod';
import type { AnalyticsSettings } from './analytics/settings.js';
import { DEFAULT_EMBEDDED_LIMITS, type EmbeddedBrokerLimits } from './broker/limits.js';
import { fuelTypes } from './db/schema.js';
import { DEFAULT_RECONCILE_SETTINGS } from './domain/finance/reconcile.js';
import { DEFAULT_FUEL_SETTINGS } from './domain/fuel/index.js';
import type { FinanceReconSettings } from './finance/settings.js';
import { parseHolidays, parseWorkingHours } from './domain/report-time.js';
import { DEFAULT_TRIP_SETTINGS } from './domain/trips.js';

/**
 * The whole runtime configuration, read once from the environment at start.
 * Every entry point calls `loadConfig()` exactly once; nothing else reads
 * `process.env`. A bad value stops the program with every bad variable named.
 */

const port = z.coerce.number().int().min(0).max(65535);

const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'is not an IANA time zone (for example Asia/Makassar)' },
);

const postgresUrl = z
  .string()
  .url()
  .refine((u) => /^postgres(ql)?:\/\//.test(u), { message: 'must start with postgres:// or postgresql://' });

const mqttUrl = z
  .string()
  .url()
  .refine((u) => /^(mqtts?|tcp|tls):\/\//.test(u), { message: 'must start with mqtt://, mqtts://, tcp:// or tls://' });

const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const nonNegative = z.coerce.number().min(0);

const workingHours = z.string().refine(
  (text) => {
    try {
      parseWorkingHours(text);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must look like "Mon-Fri 07:00-16:00"' },
);

const holidays = z.string().superRefine((text, ctx) => {
  try {
    parseHolidays(text);
  } catch (err) {
    ctx.addIssue({
      code: 'custom',
      message: `must list dates and ranges like "2026-12-25,2026-12-24/2026-12-26": ${(err as Error).message}`,
    });
  }
});

/**
 * TRUST_PROXY: '' (none), a hop count, or addresses and CIDR ranges. `true` (trust
 * anybody) is refused: any client could then pick the address it is counted under.
 */
const trustProxy = z
  .string()
  .trim()
  .refine(
    (v) =>
      v === '' ||
      /^\d{1,2}$/.test(v) ||
      v.split(',').every((part) => {
        const [address, bits, extra] = part.trim().split('/');
        if (extra !== undefined || !address || isIP(address) === 0) return false;
        return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (isIP(address) === 4 ? 32 : 128));
      }),
    { message: 'must be empty, a number of proxy hops, or proxy addresses and CIDR ranges separated by commas' },
  )
  .transform((v): number | string | false => (v === '' ? false : /^\d+$/.test(v) ? Number(v) : v));

export const envSchema = z.object({
  DATABASE_URL: z.preprocess(emptyAsUndefined, postgresUrl.optional()).describe('PostgreSQL connection string (`postgres://…`)'),
  MQTT_URL: z
    .preprocess(emptyAsUndefined, mqttUrl.optional())
    .describe('Broker URL (`mqtt://user:password@host:1883`, `mqtts://…`) for the worker'),
  DATA_DIR: z.string().min(1).default('./data').describe("Where embedded data lives (PGlite, the demo's key)"),
  HTTP_HOST: z.string().min(1).default('127.0.0.1').describe('The address the API listens on'),
  HTTP_PORT: port.default(3000).describe("The API's port"),
  METRICS_PORT: z
    .preprocess(emptyAsUndefined, port.optional())
    .describe(
      'A `worker` process (no API) serves `/metrics`, `/healthz` and `/readyz` on this port of `HTTP_HOST`; unset: it serves nothing',
    ),
  MQTT_PORT: port.default(1883).describe("The embedded broker's port (unused with MQTT_URL)"),
  MQTT_HOST: z.string().min(1).default('127.0.0.1').describe('The address the embedded broker listens on'),
  MQTT_MAX_PACKET_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(268_435_455)
    .default(DEFAULT_EMBEDDED_LIMITS.maxPacketBytes)
    .describe('Embedded broker: the largest MQTT packet it takes, header included; a larger one closes the connection at its header'),
  MQTT_CONNECT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(300_000)
    .default(DEFAULT_EMBEDDED_LIMITS.connectTimeoutMs)
    .describe('Embedded broker: time a new connection has to send a complete CONNECT before it is closed'),
  MQTT_AUTH_FAILURES_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(DEFAULT_EMBEDDED_LIMITS.authFailuresPerMinute)
    .describe('Embedded broker: failed logins a minute from one address; past it the address is refused unchecked for the minute'),
  MQTT_MAX_CONNECTIONS: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(DEFAULT_EMBEDDED_LIMITS.maxConnections)
    .describe('Embedded broker: devices connected at once (measured: docs/deployment.md); past it CONNACK 3, a log line names Mosquitto'),
  REPORT_TZ: timeZone.default('Asia/Makassar').describe('Time zone of report days and months'),
  RATE_LIMIT_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(600)
    .describe('Requests a minute per API key (or per address without one), per API instance'),
  AUTH_FAILURES_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(30)
    .describe('Failed authentications a minute from one address before it gets 429'),
  TRUST_PROXY: z
    .preprocess((v) => v ?? '', trustProxy)
    .describe(
      "The reverse proxies in front of the API: a number of hops, or a comma-separated list of their addresses and CIDR ranges (e.g. 127.0.0.1,10.0.0.0/8). The client's address, for rate limits and the failed-authentication throttle, then comes from X-Forwarded-For. Empty: no proxy is trusted, the address is the socket's",
    ),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(3_600_000)
    .default(30_000)
    .describe("A request's headers and body must have arrived within this, or the connection is closed (408)"),
  HTTP_HEADERS_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(500)
    .max(3_600_000)
    .default(10_000)
    .describe("A request's headers must have arrived within this (at most HTTP_REQUEST_TIMEOUT_MS)"),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(3_600_000)
    .default(10_000)
    .describe('An idle keep-alive connection is closed after this (behind a load balancer: longer than its idle timeout)'),
  HTTP_MAX_CONNECTIONS: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(5000)
    .describe('Open connections (HTTP and live-feed WebSockets) this API instance accepts; further ones are closed at once'),
  LIVE_MAX_CONNECTIONS_PER_KEY: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(20)
    .describe('Open live-feed connections one API key may have on this instance; one more is answered 429'),
  SPEED_LIMIT_KMH: z.coerce
    .number()
    .min(10)
    .max(300)
    .default(80)
    .describe("Fleet-wide speed limit for alerts; a vehicle's `speedLimitKmh` wins"),
  LOW_BATTERY_V: z.coerce.number().min(0).max(50).default(11.8).describe('Below this, with the engine off, a low-battery alert is raised'),
  DEVICE_SILENT_AFTER_S: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * 86_400)
    .default(3600)
    .describe(
      "A vehicle none of whose active devices has delivered a usable reading for this long (by the server's clock, not the tracker's; messages that only go to quarantine do not count), or none since its device was registered this long ago, raises a device-silent alert, once per silence",
    ),
  ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .describe("Browser origins, besides the API's own, that may open the live feed (comma-separated)"),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('The log level (pino): fatal … trace, or silent'),
  ADMIN_API_KEY: z
    .preprocess(emptyAsUndefined, z.string().min(24, { message: 'must be at least 24 characters' }).optional())
    .describe('At start, if no admin key exists yet, an admin key with this value (≥ 24 characters) is created'),
  MAX_FUTURE_S: z.coerce
    .number()
    .int()
    .min(0)
    .default(300)
    .describe('Readings whose fix time is further ahead of the receive time are quarantined'),
  MAX_AGE_DAYS: z.coerce.number().int().min(1).max(3650).default(400).describe('Readings whose fix time is older are quarantined'),
  MAX_IMPLIED_SPEED_KMH: z.coerce
    .number()
    .min(10)
    .max(2000)
    .default(250)
    .describe("A fix implying a faster move from the vehicle's previous fix is a GPS jump, quarantined"),
  INGEST_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(16)
    .default(2)
    .describe('Batches committing at the same time (PostgreSQL; PGlite takes one at a time)'),
  WORKER_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,40}$/, { message: 'may hold only letters, digits, _ and - (1 to 40)' })
    .default('1')
    .describe("Names this worker's persistent broker session (`armada-ingest-<id>`); distinct per worker"),
  WORKER_COUNT: z.coerce
    .number()
    .int()
    .min(1)
    .max(256)
    .default(1)
    .describe('How many ingest workers split the devices between them (docs/scale-out.md)'),
  WORKER_INDEX: z.coerce.number().int().min(0).max(255).default(0).describe('Which of them this one is: 0 … WORKER_COUNT − 1'),
  INGEST_SUBSCRIPTIONS: z
    .enum(['wildcard', 'per-device'])
    .default('wildcard')
    .describe(
      "`wildcard`: one subscription for every device's topic; `per-device`: the exact topic of each registered device, so a broker shared with other systems (or another Armada) delivers nothing else — messages of unregistered devices then never reach quarantine (needs `MQTT_URL`)",
    ),
  DEVICE_REFRESH_MS: z.coerce
    .number()
    .int()
    .min(200)
    .max(300_000)
    .default(5000)
    .describe(
      'With per-device subscriptions (or WORKER_COUNT > 1): how often a worker reads the devices table again for new devices to subscribe to',
    ),
  INGEST_BATCH_SIZE: z.coerce.number().int().min(1).max(10000).default(500).describe('Most readings committed in one transaction'),
  INGEST_BATCH_WAIT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(10000)
    .default(10)
    .describe('Longest a reading waits for its batch to fill (under load batches fill by size first)'),
  INGEST_POISON_ATTEMPTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(3)
    .describe(
      'A message whose write fails alone with a data error this many times is quarantined with reason `poison` and acknowledged, so it cannot hold up the rest (docs/ingest-hardening.md)',
    ),
  QUARANTINE_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(3650)
    .default(30)
    .describe('Days a quarantine row is kept after its payload last came; older rows are deleted (hourly)'),
  TELEMETRY_RETENTION_MONTHS: z.coerce
    .number()
    .int()
    .refine((n) => n === 0 || (n >= 4 && n <= 1200), {
      message: 'must be 0 (keep everything) or at least 4: the settle job still judges receipts of the last 92 days',
    })
    .default(0)
    .describe(
      'Months of raw telemetry kept before the current one; older month partitions are dropped once their report months are closed and their verdicts settled (`tsx src/cli.ts retention`, daily where the API runs). Rollups, verdicts, the ledger and the audit log are kept for good. 0: keep everything (docs/operations.md)',
    ),
  QUARANTINE_DEVICE_CAP: z.coerce
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .default(1000)
    .describe(
      'Rejects stored per device per QUARANTINE_CAP_PERIOD_MIN; beyond it they are only counted, on one `quarantine_cap` row per device and period. 0: no cap',
    ),
  QUARANTINE_CAP_PERIOD_MIN: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_080)
    .default(60)
    .describe('The period of QUARANTINE_DEVICE_CAP, in minutes'),
  REPORT_TRIP_MIN_DISTANCE_M: nonNegative
    .default(DEFAULT_TRIP_SETTINGS.minTripDistanceM)
    .describe(
      "A trip is confirmed once motion has covered this distance or lasted REPORT_TRIP_MIN_DURATION_S (Traccar's report.trip.*; a request may give its own)",
    ),
  REPORT_TRIP_MIN_DURATION_S: nonNegative
    .default(DEFAULT_TRIP_SETTINGS.minTripDurationS)
    .describe('A trip is confirmed once motion has lasted this long or covered REPORT_TRIP_MIN_DISTANCE_M'),
  REPORT_STOP_MIN_DURATION_S: nonNegative.default(DEFAULT_TRIP_SETTINGS.minStopDurationS).describe('Standing this long is a stop'),
  REPORT_TRIP_MIN_GAP_S: z.coerce
    .number()
    .min(1)
    .default(DEFAULT_TRIP_SETTINGS.minGapS)
    .describe('A gap in the data this long ends a trip'),
  REPORT_MOTION_MIN_SPEED_KMH: nonNegative
    .default(DEFAULT_TRIP_SETTINGS.minMotionSpeedKmh)
    .describe('A reading faster than this is moving'),
  REPORT_TRIP_USE_IGNITION: flag.default(false).describe('Ignition off confirms a stop at once; a reading with ignition off is not moving'),
  REPORT_IGNORE_ODOMETER: flag.default(false).describe('Measure distance from the GPS fixes even when devices report an odometer'),
  FUEL_REFUEL_MIN_LITRES: nonNegative
    .default(DEFAULT_FUEL_SETTINGS.refuelMinLitres)
    .describe('A refuel is at least this many litres, and FUEL_REFUEL_MIN_TANK_PERCENT of the tank'),
  FUEL_REFUEL_MIN_TANK_PERCENT: z.coerce
    .number()
    .min(0)
    .max(100)
    .default(DEFAULT_FUEL_SETTINGS.refuelMinTankPercent)
    .describe('A refuel is at least this share of the tank, in percent'),
  FUEL_DRAIN_MIN_LITRES: nonNegative
    .default(DEFAULT_FUEL_SETTINGS.drainMinLitres)
    .describe('A drain is at least this many litres, and FUEL_DRAIN_MIN_TANK_PERCENT of the tank'),
  FUEL_DRAIN_MIN_TANK_PERCENT: z.coerce
    .number()
    .min(0)
    .max(100)
    .default(DEFAULT_FUEL_SETTINGS.drainMinTankPercent)
    .describe('A drain is at least this share of the tank, in percent'),
  FUEL_EVENT_MERGE_S: nonNegative.default(DEFAULT_FUEL_SETTINGS.mergeGapS).describe('Refuels (or drains) closer than this are one'),
  WORKING_HOURS: workingHours
    .default('Mon-Fri 07:00-16:00')
    .describe('Official hours in REPORT_TZ; distance and use outside them is reported'),
  WORKING_HOLIDAYS: holidays
    .default('')
    .describe(
      'Days off whatever their weekday (public holidays, cuti bersama), as report days in REPORT_TZ: ISO dates and inclusive ranges, comma-separated (`2026-08-17,2026-12-24/2026-12-26`); use on them raises an outside-working-hours alert and counts as distance outside working hours. Set them each year: there is no built-in list',
    ),
  ROLLUP_INTERVAL_S: z.coerce
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(60)
    .describe('Seconds between runs of the daily rollup job (raise it for fleets over ~500 vehicles)'),
  // finance: ledger
  LEDGER_MAX_FUTURE_S: z.coerce
    .number()
    .int()
    .min(0)
    .max(86_400)
    .default(300)
    .describe("How far ahead of the server's clock a purchase's time may be (receipt printers' clocks drift); later is refused"),
  // finance: reconciliation
  FINANCE_MATCH_WINDOW_S: z.coerce
    .number()
    .int()
    .min(60)
    .max(86_400)
    .default(7200)
    .describe('A refuel within this many seconds of a receipt may be its fill'),
  FINANCE_RISE_TOLERANCE_LITRES: nonNegative
    .default(3)
    .describe('Receipt litres may exceed the tank rise by this many litres or FINANCE_RISE_TOLERANCE_PERCENT, whichever is more'),
  FINANCE_RISE_TOLERANCE_PERCENT: z.coerce.number().min(0).max(100).default(8).describe('… or this percent of the rise'),
  FINANCE_AWAY_KM: z.coerce
    .number()
    .min(0.05)
    .default(1)
    .describe('A purchase further than this from the vehicle is flagged away_from_vehicle'),
  FINANCE_PRICE_TOLERANCE_PERCENT: z.coerce
    .number()
    .min(0)
    .max(100)
    .default(1)
    .describe('amount ÷ litres further than this percent from the price in force is flagged price_mismatch'),
  FINANCE_ODOMETER_TOLERANCE_KM: nonNegative
    .default(5)
    .describe("A receipt's odometer further than this from the tracker's is flagged odometer_mismatch"),
  FINANCE_SUBSIDISED_FUELS: z
    .string()
    .refine(
      (t) =>
        t
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)
          .every((x) => (fuelTypes as readonly string[]).includes(x)),
      { message: `must list fuel types among ${fuelTypes.join(', ')}` },
    )
    .default('')
    .describe('Comma-separated fuel types official vehicles may not buy (e.g. pertalite,solar); empty: not judged'),
  FINANCE_TELEMETRY_WAIT_H: z.coerce
    .number()
    .min(0)
    .max(24 * 60)
    .default(72)
    .describe("How long a purchase waits for its vehicle's telemetry before it is judged without it"),
  FINANCE_VOUCHER_EXPIRY_H: z.coerce
    .number()
    .min(0.25)
    .max(24 * 90)
    .default(24)
    .describe('How long a fuel voucher stays open'),
  FINANCE_SETTLE_INTERVAL_S: z.coerce
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(60)
    .describe('Seconds between runs of the job that settles verdicts and raises their alerts'),
});

export type Config = Readonly<{
  databaseUrl: string | undefined;
  mqttUrl: string | undefined;
  dataDir: string;
  httpHost: string;
  httpPort: number;
  metricsPort: number | undefined;
  mqttHost: string;
  mqttPort: number;
  /** The embedded broker's limits (MQTT_MAX_PACKET_BYTES, MQTT_CONNECT_TIMEOUT_MS, MQTT_AUTH_FAILURES_PER_MINUTE, MQTT_MAX_CONNECTIONS). */
  embeddedBroker: Readonly<EmbeddedBrokerLimits>;
  reportTz: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  allowedOrigins: readonly string[];
  rateLimitPerMinute: number;
  authFailuresPerMinute: number;
  /** The reverse proxies trusted for the client's address (TRUST_PROXY); false: none. */
  trustProxy: number | string | false;
  /** HTTP server limits (docs/http-hardening.md). */
  http: Readonly<{
    requestTimeoutMs: number;
    headersTimeoutMs: number;
    keepAliveTimeoutMs: number;
    maxConnections: number;
    liveConnectionsPerKey: number;
  }>;
  speedLimitKmh: number;
  lowBatteryV: number;
  deviceSilentAfterS: number;
  adminApiKey: string | undefined;
  maxFutureS: number;
  maxAgeDays: number;
  maxImpliedSpeedKmh: number;
  ingestConcurrency: number;
  workerId: string;
  workerCount: number;
  workerIndex: number;
  deviceRefreshMs: number;
  ingestSubscriptions: 'wildcard' | 'per-device';
  ingestBatchSize: number;
  ingestBatchWaitMs: number;
  ingestPoisonAttempts: number;
  quarantineRetentionDays: number;
  /** Months of raw telemetry kept before the current one; 0: all (src/ops/retention.ts). */
  telemetryRetentionMonths: number;
  quarantineDeviceCap: number;
  quarantineCapPeriodMin: number;
  /** Trip, fuel and rollup settings, with `reportTz`. */
  analytics: Readonly<AnalyticsSettings>;
  // finance: ledger
  ledger: Readonly<{ maxFutureS: number; reportTz: string }>;
  /** Reconciliation, vouchers and the settle job (src/finance). */
  reconciliation: Readonly<FinanceReconSettings>;
}>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '?');
      const value = env[name];
      const shown = name.endsWith('KEY') || name.endsWith('URL') ? '' : value === undefined ? '' : ` (got "${value}")`;
      return `${name} ${issue.message}${shown}`;
    });
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  const crossProblems: string[] = [];
  if (e.WORKER_INDEX >= e.WORKER_COUNT) {
    crossProblems.push(`WORKER_INDEX must be less than WORKER_COUNT (got ${e.WORKER_INDEX} with WORKER_COUNT ${e.WORKER_COUNT})`);
  }
  if (e.WORKER_COUNT > 1 && !env.WORKER_ID) {
    crossProblems.push('WORKER_ID must be set when WORKER_COUNT > 1: a distinct, stable name for each WORKER_INDEX (e.g. ingest-0)');
  }
  if (e.WORKER_COUNT > 1 && !e.MQTT_URL) {
    crossProblems.push('WORKER_COUNT > 1 needs MQTT_URL: the embedded broker serves a single process');
  }
  if (e.INGEST_SUBSCRIPTIONS === 'per-device' && !e.MQTT_URL) {
    crossProblems.push(
      'INGEST_SUBSCRIPTIONS=per-device needs MQTT_URL: the embedded broker hands every message to its worker, there is nothing to subscribe to',
    );
  }
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) {
    crossProblems.push(
      `HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS (got ${e.HTTP_HEADERS_TIMEOUT_MS} and ${e.HTTP_REQUEST_TIMEOUT_MS})`,
    );
  }
  if (crossProblems.length > 0) throw new ConfigError(crossProblems);
  return Object.freeze({
    databaseUrl: e.DATABASE_URL,
    mqttUrl: e.MQTT_URL,
    dataDir: e.DATA_DIR,
    httpHost: e.HTTP_HOST,
    httpPort: e.HTTP_PORT,
    metricsPort: e.METRICS_PORT,
    mqttHost: e.MQTT_HOST,
    mqttPort: e.MQTT_PORT,
    embeddedBroker: Object.freeze({
      maxPacketBytes: e.MQTT_MAX_PACKET_BYTES,
      connectTimeoutMs: e.MQTT_CONNECT_TIMEOUT_MS,
      authFailuresPerMinute: e.MQTT_AUTH_FAILURES_PER_MINUTE,
      maxConnections: e.MQTT_MAX_CONNECTIONS,
    }),
    reportTz: e.REPORT_TZ,
    logLevel: e.LOG_LEVEL,
    allowedOrigins: Object.freeze(e.ALLOWED_ORIGINS),
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    authFailuresPerMinute: e.AUTH_FAILURES_PER_MINUTE,
    trustProxy: e.TRUST_PROXY,
    http: Object.freeze({
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: e.HTTP_MAX_CONNECTIONS,
      liveConnectionsPerKey: e.LIVE_MAX_CONNECTIONS_PER_KEY,
    }),
    speedLimitKmh: e.SPEED_LIMIT_KMH,
    lowBatteryV: e.LOW_BATTERY_V,
    deviceSilentAfterS: e.DEVICE_SILENT_AFTER_S,
    adminApiKey: e.ADMIN_API_KEY,
    maxFutureS: e.MAX_FUTURE_S,
    maxAgeDays: e.MAX_AGE_DAYS,
    maxImpliedSpeedKmh: e.MAX_IMPLIED_SPEED_KMH,
    ingestConcurrency: e.INGEST_CONCURRENCY,
    workerId: e.WORKER_ID,
    workerCount: e.WORKER_COUNT,
    workerIndex: e.WORKER_INDEX,
    deviceRefreshMs: e.DEVICE_REFRESH_MS,
    ingestSubscriptions: e.INGEST_SUBSCRIPTIONS,
    ingestBatchSize: e.INGEST_BATCH_SIZE,
    ingestBatchWaitMs: e.INGEST_BATCH_WAIT_MS,
    ingestPoisonAttempts: e.INGEST_POISON_ATTEMPTS,
    quarantineRetentionDays: e.QUARANTINE_RETENTION_DAYS,
    telemetryRetentionMonths: e.TELEMETRY_RETENTION_MONTHS,
    quarantineDeviceCap: e.QUARANTINE_DEVICE_CAP,
    quarantineCapPeriodMin: e.QUARANTINE_CAP_PERIOD_MIN,
    analytics: Object.freeze({
      reportTz: e.REPORT_TZ,
      trips: Object.freeze({
        minTripDistanceM: e.REPORT_TRIP_MIN_DISTANCE_M,
        minTripDurationS: e.REPORT_TRIP_MIN_DURATION_S,
        minStopDurationS: e.REPORT_STOP_MIN_DURATION_S,
        minGapS: e.REPORT_TRIP_MIN_GAP_S,
        minMotionSpeedKmh: e.REPORT_MOTION_MIN_SPEED_KMH,
        useIgnition: e.REPORT_TRIP_USE_IGNITION,
        ignoreOdometer: e.REPORT_IGNORE_ODOMETER,
      }),
      fuel: Object.freeze({
        ...DEFAULT_FUEL_SETTINGS,
        refuelMinLitres: e.FUEL_REFUEL_MIN_LITRES,
        refuelMinTankPercent: e.FUEL_REFUEL_MIN_TANK_PERCENT,
        drainMinLitres: e.FUEL_DRAIN_MIN_LITRES,
        drainMinTankPercent: e.FUEL_DRAIN_MIN_TANK_PERCENT,
        mergeGapS: e.FUEL_EVENT_MERGE_S,
      }),
      workingHours: Object.freeze({ ...parseWorkingHours(e.WORKING_HOURS), holidays: parseHolidays(e.WORKING_HOLIDAYS) }),
      rollupIntervalS: e.ROLLUP_INTERVAL_S,
    }),
    // finance: ledger
    ledger: Object.freeze({ maxFutureS: e.LEDGER_MAX_FUTURE_S, reportTz: e.REPORT_TZ }),
    reconciliation: Object.freeze({
      matchWindowS: e.FINANCE_MATCH_WINDOW_S,
      riseToleranceLitres: e.FINANCE_RISE_TOLERANCE_LITRES,
      riseTolerancePercent: e.FINANCE_RISE_TOLERANCE_PERCENT,
      awayKm: e.FINANCE_AWAY_KM,
      positionWindowS: DEFAULT_RECONCILE_SETTINGS.positionWindowS,
      priceTolerancePercent: e.FINANCE_PRICE_TOLERANCE_PERCENT,
      odometerToleranceKm: e.FINANCE_ODOMETER_TOLERANCE_KM,
      subsidisedFuels: Object.freeze(
        e.FINANCE_SUBSIDISED_FUELS.split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      ),
      telemetryWaitS: e.FINANCE_TELEMETRY_WAIT_H * 3600,
      voucherExpiryS: e.FINANCE_VOUCHER_EXPIRY_H * 3600,
      settleIntervalS: e.FINANCE_SETTLE_INTERVAL_S,
    }),
  });
}
