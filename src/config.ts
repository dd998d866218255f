import { z } from 'zod';
import type { AnalyticsSettings } from './analytics/settings.js';
import type { EmbeddedBrokerLimits } from './broker/limits.js';
import { alertsVariables } from './config/alerts.js';
import { analyticsVariables } from './config/analytics.js';
import { brokerVariables } from './config/broker.js';
import { financeVariables } from './config/finance.js';
import { generalVariables } from './config/general.js';
import { httpVariables } from './config/http.js';
import { ingestVariables } from './config/ingest.js';
import { storesVariables } from './config/stores.js';
import { DEFAULT_RECONCILE_SETTINGS } from './domain/finance/reconcile.js';
import { DEFAULT_FUEL_SETTINGS } from './domain/fuel/index.js';
import type { FinanceReconSettings } from './finance/settings.js';
import { parseHolidays, parseWorkingHours } from './domain/report-time.js';

/**
 * The whole runtime configuration, read once from the environment at start.
 * Every entry point calls `loadConfig()` exactly once; nothing else reads
 * `process.env`. A bad value stops the program with every bad variable named.
 *
 * The variables are declared by area in src/config/ (stores, broker, http, general,
 * alerts, ingest, analytics, finance), each with its `.describe(…)`; `envSchema` puts
 * them together in the order docs/configuration.md lists them (`npm run docs:config`
 * writes that page from it).
 */

/** Each area's variables, so a test can check that `envSchema` leaves none out. */
export const variablesByArea = {
  stores: storesVariables,
  broker: brokerVariables,
  http: httpVariables,
  general: generalVariables,
  alerts: alertsVariables,
  ingest: ingestVariables,
  analytics: analyticsVariables,
  finance: financeVariables,
};

export const envSchema = z.object({
  DATABASE_URL: storesVariables.DATABASE_URL,
  MQTT_URL: brokerVariables.MQTT_URL,
  DATA_DIR: storesVariables.DATA_DIR,
  HTTP_HOST: httpVariables.HTTP_HOST,
  HTTP_PORT: httpVariables.HTTP_PORT,
  METRICS_PORT: httpVariables.METRICS_PORT,
  MQTT_PORT: brokerVariables.MQTT_PORT,
  MQTT_HOST: brokerVariables.MQTT_HOST,
  MQTT_MAX_PACKET_BYTES: brokerVariables.MQTT_MAX_PACKET_BYTES,
  MQTT_CONNECT_TIMEOUT_MS: brokerVariables.MQTT_CONNECT_TIMEOUT_MS,
  MQTT_AUTH_FAILURES_PER_MINUTE: brokerVariables.MQTT_AUTH_FAILURES_PER_MINUTE,
  MQTT_MAX_CONNECTIONS: brokerVariables.MQTT_MAX_CONNECTIONS,
  REPORT_TZ: generalVariables.REPORT_TZ,
  RATE_LIMIT_PER_MINUTE: httpVariables.RATE_LIMIT_PER_MINUTE,
  AUTH_FAILURES_PER_MINUTE: httpVariables.AUTH_FAILURES_PER_MINUTE,
  TRUST_PROXY: httpVariables.TRUST_PROXY,
  HTTP_REQUEST_TIMEOUT_MS: httpVariables.HTTP_REQUEST_TIMEOUT_MS,
  HTTP_HEADERS_TIMEOUT_MS: httpVariables.HTTP_HEADERS_TIMEOUT_MS,
  HTTP_KEEP_ALIVE_TIMEOUT_MS: httpVariables.HTTP_KEEP_ALIVE_TIMEOUT_MS,
  HTTP_MAX_CONNECTIONS: httpVariables.HTTP_MAX_CONNECTIONS,
  LIVE_MAX_CONNECTIONS_PER_KEY: httpVariables.LIVE_MAX_CONNECTIONS_PER_KEY,
  SPEED_LIMIT_KMH: alertsVariables.SPEED_LIMIT_KMH,
  LOW_BATTERY_V: alertsVariables.LOW_BATTERY_V,
  DEVICE_SILENT_AFTER_S: alertsVariables.DEVICE_SILENT_AFTER_S,
  ALLOWED_ORIGINS: httpVariables.ALLOWED_ORIGINS,
  LOG_LEVEL: generalVariables.LOG_LEVEL,
  ADMIN_API_KEY: httpVariables.ADMIN_API_KEY,
  MAX_FUTURE_S: ingestVariables.MAX_FUTURE_S,
  MAX_AGE_DAYS: ingestVariables.MAX_AGE_DAYS,
  MAX_IMPLIED_SPEED_KMH: ingestVariables.MAX_IMPLIED_SPEED_KMH,
  INGEST_CONCURRENCY: ingestVariables.INGEST_CONCURRENCY,
  WORKER_ID: ingestVariables.WORKER_ID,
  WORKER_COUNT: ingestVariables.WORKER_COUNT,
  WORKER_INDEX: ingestVariables.WORKER_INDEX,
  INGEST_SUBSCRIPTIONS: ingestVariables.INGEST_SUBSCRIPTIONS,
  INGEST_SHARE_GROUP: ingestVariables.INGEST_SHARE_GROUP,
  DEVICE_REFRESH_MS: ingestVariables.DEVICE_REFRESH_MS,
  INGEST_BATCH_SIZE: ingestVariables.INGEST_BATCH_SIZE,
  INGEST_BATCH_WAIT_MS: ingestVariables.INGEST_BATCH_WAIT_MS,
  INGEST_STATE_FLUSH_MS: ingestVariables.INGEST_STATE_FLUSH_MS,
  INGEST_POISON_ATTEMPTS: ingestVariables.INGEST_POISON_ATTEMPTS,
  QUARANTINE_RETENTION_DAYS: ingestVariables.QUARANTINE_RETENTION_DAYS,
  TELEMETRY_RETENTION_MONTHS: ingestVariables.TELEMETRY_RETENTION_MONTHS,
  QUARANTINE_DEVICE_CAP: ingestVariables.QUARANTINE_DEVICE_CAP,
  QUARANTINE_CAP_PERIOD_MIN: ingestVariables.QUARANTINE_CAP_PERIOD_MIN,
  REPORT_TRIP_MIN_DISTANCE_M: analyticsVariables.REPORT_TRIP_MIN_DISTANCE_M,
  REPORT_TRIP_MIN_DURATION_S: analyticsVariables.REPORT_TRIP_MIN_DURATION_S,
  REPORT_STOP_MIN_DURATION_S: analyticsVariables.REPORT_STOP_MIN_DURATION_S,
  REPORT_TRIP_MIN_GAP_S: analyticsVariables.REPORT_TRIP_MIN_GAP_S,
  REPORT_MOTION_MIN_SPEED_KMH: analyticsVariables.REPORT_MOTION_MIN_SPEED_KMH,
  REPORT_TRIP_USE_IGNITION: analyticsVariables.REPORT_TRIP_USE_IGNITION,
  REPORT_IGNORE_ODOMETER: analyticsVariables.REPORT_IGNORE_ODOMETER,
  FUEL_REFUEL_MIN_LITRES: analyticsVariables.FUEL_REFUEL_MIN_LITRES,
  FUEL_REFUEL_MIN_TANK_PERCENT: analyticsVariables.FUEL_REFUEL_MIN_TANK_PERCENT,
  FUEL_DRAIN_MIN_LITRES: analyticsVariables.FUEL_DRAIN_MIN_LITRES,
  FUEL_DRAIN_MIN_TANK_PERCENT: analyticsVariables.FUEL_DRAIN_MIN_TANK_PERCENT,
  FUEL_EVENT_MERGE_S: analyticsVariables.FUEL_EVENT_MERGE_S,
  WORKING_HOURS: analyticsVariables.WORKING_HOURS,
  WORKING_HOLIDAYS: analyticsVariables.WORKING_HOLIDAYS,
  ROLLUP_INTERVAL_S: analyticsVariables.ROLLUP_INTERVAL_S,
  ROLLUP_START_DELAY_S: analyticsVariables.ROLLUP_START_DELAY_S,
  LEDGER_MAX_FUTURE_S: financeVariables.LEDGER_MAX_FUTURE_S,
  FINANCE_MATCH_WINDOW_S: financeVariables.FINANCE_MATCH_WINDOW_S,
  FINANCE_RISE_TOLERANCE_LITRES: financeVariables.FINANCE_RISE_TOLERANCE_LITRES,
  FINANCE_RISE_TOLERANCE_PERCENT: financeVariables.FINANCE_RISE_TOLERANCE_PERCENT,
  FINANCE_AWAY_KM: financeVariables.FINANCE_AWAY_KM,
  FINANCE_PRICE_TOLERANCE_PERCENT: financeVariables.FINANCE_PRICE_TOLERANCE_PERCENT,
  FINANCE_ODOMETER_TOLERANCE_KM: financeVariables.FINANCE_ODOMETER_TOLERANCE_KM,
  FINANCE_SUBSIDISED_FUELS: financeVariables.FINANCE_SUBSIDISED_FUELS,
  FINANCE_TELEMETRY_WAIT_H: financeVariables.FINANCE_TELEMETRY_WAIT_H,
  FINANCE_VOUCHER_EXPIRY_H: financeVariables.FINANCE_VOUCHER_EXPIRY_H,
  FINANCE_SETTLE_INTERVAL_S: financeVariables.FINANCE_SETTLE_INTERVAL_S,
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
  ingestSubscriptions: 'wildcard' | 'per-device' | 'shared';
  ingestShareGroup: string;
  ingestBatchSize: number;
  ingestBatchWaitMs: number;
  ingestStateFlushMs: number;
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
  if (e.INGEST_SUBSCRIPTIONS !== 'wildcard' && !e.MQTT_URL) {
    crossProblems.push(
      `INGEST_SUBSCRIPTIONS=${e.INGEST_SUBSCRIPTIONS} needs MQTT_URL: the embedded broker hands every message to its worker, there is nothing to subscribe to`,
    );
  }
  if (e.INGEST_SUBSCRIPTIONS === 'shared' && !env.WORKER_ID) {
    crossProblems.push(
      'INGEST_SUBSCRIPTIONS=shared needs WORKER_ID: a distinct, stable name for each worker of the group (its MQTT client id and session)',
    );
  }
  if (e.INGEST_SUBSCRIPTIONS === 'shared' && e.WORKER_COUNT > 1) {
    crossProblems.push(
      'INGEST_SUBSCRIPTIONS=shared takes no WORKER_COUNT: the broker spreads the messages over the group, the workers do not split the devices (set WORKER_COUNT=1 and a distinct WORKER_ID for each)',
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
    ingestShareGroup: e.INGEST_SHARE_GROUP,
    ingestBatchSize: e.INGEST_BATCH_SIZE,
    ingestBatchWaitMs: e.INGEST_BATCH_WAIT_MS,
    ingestStateFlushMs: e.INGEST_STATE_FLUSH_MS,
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
      rollupStartDelayS: e.ROLLUP_START_DELAY_S,
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
