/**
 * The simulator's command line: its help text and the parsing of it into one checked
 * options object. Pure, so that tests can call it; simulator/cli.ts does the rest.
 */
import { parseArgs } from 'node:util';
import type { FleetOptions, ScheduleMode } from './fleet/index.js';
import { DEFAULT_TANK_SENSOR } from './physics.js';
import type { OutputFormat } from './formats.js';

export const USAGE = `Usage: npm run simulate -- [options]

Simulates a fleet of city vehicles driving around Kupang — duty hours, fuel physics,
refuels, drains, receipts (some fraudulent), coverage gaps, bad GPS fixes — and sends
what their trackers would send. The same seed and options give the same readings and
the same ground truth, byte for byte.

Modes:
  (default)             live: simulated time runs with the clock (× --speedup) until
                        Ctrl-C or --duration
  --from ISO --to ISO   batch: generate that period as fast as possible, with a
                        progress bar (times with a zone, e.g. 2026-11-01T00:00:00+08:00;
                        a date alone, 2026-11-01, is midnight WITA)
  --load-rate MSG_PER_S load: --vehicles devices publishing this many messages a
                        second in total for --duration seconds; reports the rate
                        achieved
  --replay FILE.gpx     replay a GPX track (e.g. tests/fixtures/tracks/) as one
                        device, at the recorded times (shifted to --from if given);
                        as fast as possible, or paced with --speedup

Where readings go (at least one):
  --out FILE.jsonl      one line per MQTT message: {"topic": ..., "payload": ...}
  --mqtt URL            publish to this broker with QoS 1 (mqtt://user:pass@host:port);
                        default $MQTT_URL unless only --out is given, and with --api
                        $MQTT_URL or mqtt://127.0.0.1:1883
  --api URL             register the fleet with Armada first (department SIM, vehicles
                        "SIM 0001", ...; each device then connects with its own secret)
                        and post the receipts to /api/v1/fuel-purchases
  --api-key KEY         an admin API key (or set ARMADA_API_KEY, which keeps the key
                        out of the process list)
  --truth FILE.jsonl    write the ground truth: per vehicle and day the litres used,
                        distance, refuels, drains, receipts (and which are fraudulent),
                        trips and stops (format: simulator/truth.ts)
  --format F            armada (default) or owntracks (topic owntracks/sim/<device>,
                        no fuel data)

The fleet and the model:
  --vehicles N          vehicles, 1 to 5000 (default 10); a mix of the Kupang demo
                        fleet's cars, pickups, trucks, buses, ambulances, motorcycles
  --seed S              random seed (default 1)
  --interval S          seconds between readings with the ignition on (default 10)
  --parked-interval S   seconds between readings with the ignition off (default 60)
  --schedule MODE       realistic: office hours Mon-Fri 07:30-16:00 WITA, garbage
                        rounds from 05:30, bus service, ambulances on shifts;
                        always: errands around the clock (default: realistic in
                        batch mode, always in live mode, so a night demo moves)
  --sensor-noise L      tank sensor noise, σ in litres (default 0.4)
  --sensor-step L       tank sensor resolution in litres (default 0.1)
  --slosh X             slosh while moving, × the default amount (default 1; 0 = none)
  --gps-noise M         GPS error, σ in metres per axis (default 3)
  --bad-fix-rate F      fraction of bad fixes: (0,0) and jumps of 2-30 km (default 0.001)
  --drain-rate R        fuel drains per vehicle per day (default 0.02)
  --fraud-inflated F    fraction of refuels whose receipt claims more (default 0.05)
  --fraud-phantom F     fraction of refuels followed by a receipt without a fill
                        (default 0.02)
  --fraud-elsewhere F   fraction of refuels followed by a receipt from a station the
                        vehicle was not at (default 0.02)
  --after-hours-rate R  private evening trips per office vehicle per day (default 0.03)
  --out-of-city-rate R  official trips out of Kupang per office vehicle per working
                        day (default 0.05)
  --offline-rate R      coverage losses per vehicle per day, 5 min to 4 h, sent
                        later as a JSON array (default 0.15)

Timing:
  --speedup X           live: simulated seconds per real second (default 1)
  --start ISO           live: simulated start time (default now); with --speedup > 1
                        start in the past, or timestamps run into the future
  --duration S          live and load: stop after S seconds of real time
  --connections C       load without --api: MQTT connections to spread devices over
                        (default 4)
  --device-id ID        replay: the device id (default gpx-replay)
  --quiet               no progress output
  -h, --help            show this text

Examples:
  npm run simulate -- --vehicles 30 --from 2026-11-01T00:00:00+08:00 \\
    --to 2026-12-01T00:00:00+08:00 --out readings.jsonl --truth truth.jsonl
  npm run simulate -- --api http://127.0.0.1:3000 --api-key "$KEY" --vehicles 20 --interval 2
  npm run simulate -- --mqtt mqtt://127.0.0.1:1883 --vehicles 1000 --load-rate 5000 --duration 60
  npm run simulate -- --replay tests/fixtures/tracks/around-visnjan-with-car.gpx --out gpx.jsonl
`;

export class UsageError extends Error {}

export type Mode = 'live' | 'batch' | 'load' | 'replay';

export interface CliOptions {
  mode: Mode;
  vehicles: number;
  seed: number;
  intervalS: number;
  parkedIntervalS: number;
  schedule: ScheduleMode;
  format: OutputFormat;
  outFile: string | undefined;
  truthFile: string | undefined;
  mqttUrl: string | undefined;
  apiUrl: string | undefined;
  apiKey: string | undefined;
  fromMs: number | undefined;
  toMs: number | undefined;
  startMs: number | undefined;
  speedup: number | undefined;
  durationS: number | undefined;
  loadRate: number | undefined;
  connections: number;
  replayFile: string | undefined;
  deviceId: string;
  quiet: boolean;
  model: {
    sensorNoiseLitres: number;
    sensorStepLitres: number;
    slosh: number;
    gpsNoiseM: number;
    badFixRate: number;
    drainRatePerDay: number;
    fraudInflated: number;
    fraudPhantom: number;
    fraudElsewhere: number;
    afterHoursRatePerDay: number;
    outOfCityRatePerDay: number;
    offlineRatePerDay: number;
  };
}

export const MAX_VEHICLES = 5000;

const STRING_OPTIONS = [
  'vehicles',
  'seed',
  'interval',
  'parked-interval',
  'schedule',
  'format',
  'out',
  'truth',
  'mqtt',
  'api',
  'api-key',
  'from',
  'to',
  'start',
  'speedup',
  'duration',
  'load-rate',
  'connections',
  'replay',
  'device-id',
  'sensor-noise',
  'sensor-step',
  'slosh',
  'gps-noise',
  'bad-fix-rate',
  'drain-rate',
  'fraud-inflated',
  'fraud-phantom',
  'fraud-elsewhere',
  'after-hours-rate',
  'out-of-city-rate',
  'offline-rate',
] as const;

function number(name: string, raw: string | undefined, fallback: number, check: (n: number) => boolean, expected: string): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || !check(n)) throw new UsageError(`--${name} must be ${expected}, got "${raw}"`);
  return n;
}

function optionalNumber(name: string, raw: string | undefined, check: (n: number) => boolean, expected: string): number | undefined {
  return raw === undefined ? undefined : number(name, raw, 0, check, expected);
}

function time(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  // A zone is required: a bare local time would mean different instants on different machines.
  if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(raw.trim()) && !/^\d{4}-\d{2}-\d{2}$/.test(raw.trim())) {
    throw new UsageError(`--${name} needs a time zone, e.g. 2026-11-01T00:00:00+08:00 or …Z; got "${raw}"`);
  }
  // A date alone is a WITA calendar day, as the fleet's reports count them.
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(raw.trim()) ? Date.parse(`${raw.trim()}T00:00:00+08:00`) : Date.parse(raw);
  if (!Number.isFinite(ms)) throw new UsageError(`--${name} must be an ISO 8601 time, got "${raw}"`);
  return ms;
}

function url(name: string, raw: string | undefined, protocols: RegExp, expected: string): string | undefined {
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new UsageError(`--${name} is not a URL: "${raw}"`);
  }
  if (!protocols.test(parsed.protocol)) throw new UsageError(`--${name} must start with ${expected}, got "${raw}"`);
  return raw.replace(/\/+$/, '');
}

const fraction = (n: number) => n >= 0 && n <= 1;
const nonNegative = (n: number) => n >= 0;
const wholeSeconds = (n: number) => Number.isInteger(n) && n >= 1 && n <= 3600;

/** Answers null when --help was asked for. */
export function parseCliOptions(argv: string[], env: NodeJS.ProcessEnv): CliOptions | null {
  let parsed: { values: Record<string, unknown> };
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(STRING_OPTIONS.map((name) => [name, { type: 'string' as const }])),
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  if (v.help) return null;
  const s = (name: (typeof STRING_OPTIONS)[number]) => v[name] as string | undefined;

  const fromMs = time('from', s('from'));
  const toMs = time('to', s('to'));
  const loadRate = optionalNumber(
    'load-rate',
    s('load-rate'),
    (n) => n > 0 && n <= 1_000_000,
    'a rate above 0 and at most 1000000 messages a second',
  );
  const replayFile = s('replay');
  // --from also shifts a replayed track; otherwise --from/--to make a batch run.
  const batch = replayFile === undefined && (fromMs !== undefined || toMs !== undefined);
  const modes: Mode[] = [
    ...(replayFile !== undefined ? ['replay' as const] : []),
    ...(loadRate !== undefined ? ['load' as const] : []),
    ...(batch ? ['batch' as const] : []),
  ];
  if (modes.length > 1)
    throw new UsageError(`choose one mode, not ${modes.join(' and ')}: --from/--to (batch), --load-rate (load) or --replay`);
  const mode: Mode = modes[0] ?? 'live';
  if (mode === 'replay' && toMs !== undefined) throw new UsageError('--to is for batch mode; a replay ends where its track ends');
  if (mode === 'batch') {
    if (fromMs === undefined || toMs === undefined) throw new UsageError('batch mode needs both --from and --to');
    if (toMs <= fromMs) throw new UsageError('--to must be after --from');
    if (toMs - fromMs > 366 * 86_400_000) throw new UsageError('--from to --to may span at most 366 days');
  }

  const format = (s('format') ?? 'armada') as OutputFormat;
  if (format !== 'armada' && format !== 'owntracks') throw new UsageError(`--format must be armada or owntracks, got "${format}"`);
  const schedule = (s('schedule') ?? (mode === 'batch' ? 'realistic' : 'always')) as ScheduleMode;
  if (schedule !== 'realistic' && schedule !== 'always') throw new UsageError(`--schedule must be realistic or always, got "${schedule}"`);

  const apiUrl = url('api', s('api'), /^https?:$/, 'http:// or https://');
  const apiKey = s('api-key') ?? env.ARMADA_API_KEY;
  if (apiUrl && !apiKey) throw new UsageError('--api needs --api-key (or ARMADA_API_KEY)');
  if (!apiUrl && s('api-key') !== undefined) throw new UsageError('--api-key needs --api');
  const mqttProtocols = mode === 'live' ? /^(mqtts?|tcp|tls|wss?):$/ : /^(mqtts?|tcp|tls):$/;
  const outFile = s('out');
  // The broker named in the environment, as the rest of Armada reads it — unless readings go to a file only.
  const defaultMqtt = apiUrl ? (env.MQTT_URL ?? 'mqtt://127.0.0.1:1883') : outFile ? undefined : env.MQTT_URL;
  const mqttUrl = url(
    'mqtt',
    s('mqtt') ?? defaultMqtt,
    mqttProtocols,
    mode === 'live' ? 'mqtt://, mqtts://, tcp://, tls://, ws:// or wss://' : 'mqtt://, mqtts://, tcp:// or tls://',
  );
  const truthFile = s('truth');
  if (!outFile && !mqttUrl) throw new UsageError('say where readings go: --out FILE.jsonl, --mqtt URL or --api URL');
  if (mode === 'load' && !mqttUrl) throw new UsageError('load mode publishes over MQTT: give --mqtt URL (or --api URL)');
  if (mode === 'load' && (outFile || truthFile))
    throw new UsageError('load mode only publishes: --out and --truth are for the other modes');

  const durationS = optionalNumber('duration', s('duration'), (n) => n > 0 && n <= 30 * 86_400, 'a number of seconds above 0');
  if (mode === 'load' && durationS === undefined) throw new UsageError('load mode needs --duration SECONDS');
  const startMs = time('start', s('start'));
  if (startMs !== undefined && mode !== 'live') throw new UsageError('--start is for live mode; batch mode uses --from');
  const speedup = optionalNumber('speedup', s('speedup'), (n) => n > 0 && n <= 100_000, 'a number above 0 and at most 100000');
  if (speedup !== undefined && (mode === 'batch' || mode === 'load'))
    throw new UsageError(
      `--speedup is for live and replay modes; ${mode} mode runs ${mode === 'batch' ? 'as fast as it can' : 'at --load-rate'}`,
    );

  return {
    mode,
    vehicles: number(
      'vehicles',
      s('vehicles'),
      mode === 'replay' ? 1 : 10,
      (n) => Number.isInteger(n) && n >= 1 && n <= MAX_VEHICLES,
      `a whole number from 1 to ${MAX_VEHICLES}`,
    ),
    seed: number('seed', s('seed'), 1, (n) => Number.isSafeInteger(n), 'a whole number'),
    intervalS: number('interval', s('interval'), 10, wholeSeconds, 'a whole number of seconds from 1 to 3600'),
    parkedIntervalS: number('parked-interval', s('parked-interval'), 60, wholeSeconds, 'a whole number of seconds from 1 to 3600'),
    schedule,
    format,
    outFile,
    truthFile,
    mqttUrl,
    apiUrl,
    apiKey: apiUrl ? apiKey : undefined,
    fromMs,
    toMs,
    startMs,
    speedup,
    durationS,
    loadRate,
    connections: number(
      'connections',
      s('connections'),
      4,
      (n) => Number.isInteger(n) && n >= 1 && n <= 1000,
      'a whole number from 1 to 1000',
    ),
    replayFile,
    deviceId: s('device-id') ?? (format === 'owntracks' ? 'sim/gpx-replay' : 'gpx-replay'),
    quiet: v.quiet === true,
    model: {
      sensorNoiseLitres: number('sensor-noise', s('sensor-noise'), 0.4, (n) => n >= 0 && n <= 50, 'litres from 0 to 50'),
      sensorStepLitres: number('sensor-step', s('sensor-step'), 0.1, (n) => n >= 0 && n <= 20, 'litres from 0 to 20'),
      slosh: number('slosh', s('slosh'), 1, (n) => n >= 0 && n <= 20, 'a factor from 0 to 20'),
      gpsNoiseM: number('gps-noise', s('gps-noise'), 3, (n) => n >= 0 && n <= 1000, 'metres from 0 to 1000'),
      badFixRate: number('bad-fix-rate', s('bad-fix-rate'), 0.001, fraction, 'a fraction from 0 to 1'),
      drainRatePerDay: number('drain-rate', s('drain-rate'), 0.02, nonNegative, 'a rate ≥ 0'),
      fraudInflated: number('fraud-inflated', s('fraud-inflated'), 0.05, fraction, 'a fraction from 0 to 1'),
      fraudPhantom: number('fraud-phantom', s('fraud-phantom'), 0.02, fraction, 'a fraction from 0 to 1'),
      fraudElsewhere: number('fraud-elsewhere', s('fraud-elsewhere'), 0.02, fraction, 'a fraction from 0 to 1'),
      afterHoursRatePerDay: number('after-hours-rate', s('after-hours-rate'), 0.03, nonNegative, 'a rate ≥ 0'),
      outOfCityRatePerDay: number('out-of-city-rate', s('out-of-city-rate'), 0.05, nonNegative, 'a rate ≥ 0'),
      offlineRatePerDay: number('offline-rate', s('offline-rate'), 0.15, nonNegative, 'a rate ≥ 0'),
    },
  };
}

/** The model's options as the library takes them. */
export function fleetModelOptions(o: CliOptions): Omit<FleetOptions, 'vehicles' | 'seed' | 'startMs'> {
  const m = o.model;
  return {
    schedule: o.schedule,
    format: o.format,
    intervalS: o.intervalS,
    parkedIntervalS: o.parkedIntervalS,
    sensor: {
      noiseSigmaLitres: m.sensorNoiseLitres,
      stepLitres: m.sensorStepLitres,
      sloshLitresPerMps2: DEFAULT_TANK_SENSOR.sloshLitresPerMps2 * m.slosh,
      sloshSigmaLitres: DEFAULT_TANK_SENSOR.sloshSigmaLitres * m.slosh,
    },
    gpsNoiseM: m.gpsNoiseM,
    badFixRate: m.badFixRate,
    drainRatePerDay: m.drainRatePerDay,
    fraud: { inflated: m.fraudInflated, phantom: m.fraudPhantom, elsewhere: m.fraudElsewhere },
    afterHoursRatePerDay: m.afterHoursRatePerDay,
    outOfCityRatePerDay: m.outOfCityRatePerDay,
    offlineRatePerDay: m.offlineRatePerDay,
  };
}
