/** The ingest worker: what readings it accepts, how it batches them, scale-out, and the quarantine. */
import { z } from 'zod';

export const ingestVariables = {
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
    .enum(['wildcard', 'per-device', 'shared'])
    .default('wildcard')
    .describe(
      "`wildcard`: one subscription for every device's topic; `per-device`: the exact topic of each registered device, so a broker shared with other systems (or another Armada) delivers nothing else — messages of unregistered devices then never reach quarantine; `shared`: the wildcards in the shared group INGEST_SHARE_GROUP, so the broker spreads the messages over every worker subscribed there (for EMQX, whose shared groups hand a departed member's messages to the others; docs/scale-out.md). All three need `MQTT_URL` but `wildcard`",
    ),
  INGEST_SHARE_GROUP: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - and _ only (it is a topic level)')
    .default('armada-ingest')
    .describe('With INGEST_SUBSCRIPTIONS=shared: the shared subscription group the workers join (`$share/<group>/…`)'),
  DEVICE_REFRESH_MS: z.coerce
    .number()
    .int()
    .min(200)
    .max(300_000)
    .default(5000)
    .describe(
      'With per-device subscriptions (or WORKER_COUNT > 1): how often a worker reads the devices table again for new devices to subscribe to',
    ),
  INGEST_BATCH_SIZE: z.coerce.number().int().min(1).max(10000).default(1000).describe('Most readings committed in one transaction'),
  INGEST_BATCH_WAIT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(10000)
    .default(10)
    .describe('Longest a reading waits for its batch to fill (under load batches fill by size first)'),
  INGEST_STATE_FLUSH_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(60_000)
    .default(1000)
    .describe(
      "How often, at the most, the worker writes each vehicle's latest position and its trackers' last-seen time and seq counters, which it keeps behind the readings (docs/development.md); a flush that took long spaces the next one out to twenty times its duration, up to ten times this. Longer costs the database less when vehicles report more often than this",
    ),
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
};
