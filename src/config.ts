import { z } from 'zod';

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

const envSchema = z.object({
  DATABASE_URL: z.preprocess(emptyAsUndefined, postgresUrl.optional()),
  MQTT_URL: z.preprocess(emptyAsUndefined, mqttUrl.optional()),
  DATA_DIR: z.string().min(1).default('./data'),
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: port.default(3000),
  MQTT_PORT: port.default(1883),
  MQTT_HOST: z.string().min(1).default('127.0.0.1'),
  REPORT_TZ: timeZone.default('Asia/Makassar'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ADMIN_API_KEY: z.preprocess(
    emptyAsUndefined,
    z.string().min(24, { message: 'must be at least 24 characters' }).optional(),
  ),
  /** Readings whose fix time is further in the future than this are quarantined. */
  MAX_FUTURE_S: z.coerce.number().int().min(0).default(300),
  /** Readings whose fix time is older than this many days are quarantined. */
  MAX_AGE_DAYS: z.coerce.number().int().min(1).max(3650).default(400),
  /** A fix implying a faster move from the vehicle's previous fix is a GPS jump, quarantined. */
  MAX_IMPLIED_SPEED_KMH: z.coerce.number().min(10).max(2000).default(250),
  /** Batches the ingest worker commits at the same time (PostgreSQL only; PGlite takes one at a time). */
  INGEST_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(2),
  /** A stable name for this worker's broker session (several workers need distinct ones). */
  WORKER_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,40}$/, { message: 'may hold only letters, digits, _ and - (1 to 40)' })
    .default('1'),
  /** How many ingest workers split the devices between them (docs/scale-out.md). */
  WORKER_COUNT: z.coerce.number().int().min(1).max(256).default(1),
  /** Which of them this one is: 0 … WORKER_COUNT − 1. */
  WORKER_INDEX: z.coerce.number().int().min(0).max(255).default(0),
  /** With WORKER_COUNT > 1: how often a worker re-reads the devices table for new devices to subscribe to. */
  DEVICE_REFRESH_MS: z.coerce.number().int().min(200).max(300_000).default(5000),
  /** Largest batch the ingest worker commits at once. */
  INGEST_BATCH_SIZE: z.coerce.number().int().min(1).max(10000).default(500),
  /** Longest time a reading waits in a batch before it is committed. */
  INGEST_BATCH_WAIT_MS: z.coerce.number().int().min(0).max(10000).default(50),
});

export type Config = Readonly<{
  databaseUrl: string | undefined;
  mqttUrl: string | undefined;
  dataDir: string;
  httpHost: string;
  httpPort: number;
  mqttHost: string;
  mqttPort: number;
  reportTz: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  adminApiKey: string | undefined;
  maxFutureS: number;
  maxAgeDays: number;
  maxImpliedSpeedKmh: number;
  ingestConcurrency: number;
  workerId: string;
  workerCount: number;
  workerIndex: number;
  deviceRefreshMs: number;
  ingestBatchSize: number;
  ingestBatchWaitMs: number;
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
  if (crossProblems.length > 0) throw new ConfigError(crossProblems);
  return Object.freeze({
    databaseUrl: e.DATABASE_URL,
    mqttUrl: e.MQTT_URL,
    dataDir: e.DATA_DIR,
    httpHost: e.HTTP_HOST,
    httpPort: e.HTTP_PORT,
    mqttHost: e.MQTT_HOST,
    mqttPort: e.MQTT_PORT,
    reportTz: e.REPORT_TZ,
    logLevel: e.LOG_LEVEL,
    adminApiKey: e.ADMIN_API_KEY,
    maxFutureS: e.MAX_FUTURE_S,
    maxAgeDays: e.MAX_AGE_DAYS,
    maxImpliedSpeedKmh: e.MAX_IMPLIED_SPEED_KMH,
    ingestConcurrency: e.INGEST_CONCURRENCY,
    workerId: e.WORKER_ID,
    workerCount: e.WORKER_COUNT,
    workerIndex: e.WORKER_INDEX,
    deviceRefreshMs: e.DEVICE_REFRESH_MS,
    ingestBatchSize: e.INGEST_BATCH_SIZE,
    ingestBatchWaitMs: e.INGEST_BATCH_WAIT_MS,
  });
}
