/**
 * `npm run simulate -- [options]`: registers a simulated fleet through Armada's REST
 * API (department SIM, vehicles "SIM 0001"…, one tracker each) and drives it over MQTT
 * until Ctrl-C. Runs again reuse the vehicles; trackers are new each run because a
 * device secret is only ever shown once.
 */
import { parseArgs } from 'node:util';
import { demoVehicles, type DemoVehicle } from '../src/demo/kupang-fleet.js';
import type { SimVehicle } from './fleet.js';
import { startLiveSimulation, type LiveDevice } from './live.js';

const USAGE = `Usage: npm run simulate -- --api URL --api-key KEY [options]

Registers simulated vehicles with Armada (department SIM, plates "SIM 0001", ...)
and drives them around Kupang, publishing telemetry over MQTT until Ctrl-C.

Options:
  --api URL         Armada's base URL, e.g. http://127.0.0.1:3000 (required)
  --api-key KEY     an admin API key (required; or set ARMADA_API_KEY, which keeps
                    the key out of the process list)
  --vehicles N      number of vehicles, 1 to 5000 (default 10)
  --interval S      seconds of simulated time between readings (default 5)
  --seed N          random seed; the same seed drives the same routes (default 1)
  --speedup X       simulated seconds per real second (default 1)
  --start TIME      simulated start time, ISO 8601 (default now); with --speedup > 1
                    start in the past, or timestamps run into the future and the
                    server quarantines them
  --mqtt URL        MQTT broker (default $MQTT_URL or mqtt://127.0.0.1:1883)
  -h, --help        show this text

Example:
  npm run simulate -- --api http://127.0.0.1:3000 --api-key "$KEY" --vehicles 20 --interval 2
`;

const SIM_DEPARTMENT = { code: 'SIM', name: 'Simulated fleet' };
const PROGRESS_EVERY_MS = 10_000;
const MAX_VEHICLES = 5000;
/** The same error text from many trackers at once (a broker restart) is shown once per window. */
const ERROR_REPEAT_WINDOW_MS = 10_000;

class UsageError extends Error {}

interface CliOptions {
  apiUrl: string;
  apiKey: string;
  mqttUrl: string;
  vehicles: number;
  intervalS: number;
  seed: number;
  speedup: number;
  startMs: number | undefined;
}

function parseNumber(name: string, raw: string | undefined, fallback: number, check: (n: number) => boolean, expected: string): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || !check(n)) throw new UsageError(`--${name} must be ${expected}, got "${raw}"`);
  return n;
}

function parseUrl(name: string, raw: string, protocols: RegExp, expected: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--${name} is not a URL: "${raw}"`);
  }
  if (!protocols.test(url.protocol)) throw new UsageError(`--${name} must start with ${expected}, got "${raw}"`);
  return raw.replace(/\/+$/, '');
}

/** Answers null when --help was asked for. */
function parseCliOptions(argv: string[], env: NodeJS.ProcessEnv): CliOptions | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        api: { type: 'string' },
        'api-key': { type: 'string' },
        mqtt: { type: 'string' },
        vehicles: { type: 'string' },
        interval: { type: 'string' },
        seed: { type: 'string' },
        speedup: { type: 'string' },
        start: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) return null;
  if (!v.api) throw new UsageError('--api is required (the Armada base URL, e.g. http://127.0.0.1:3000)');
  const apiKey = v['api-key'] ?? env.ARMADA_API_KEY;
  if (!apiKey) throw new UsageError('--api-key is required (or set ARMADA_API_KEY)');
  let startMs: number | undefined;
  if (v.start !== undefined) {
    startMs = Date.parse(v.start);
    if (!Number.isFinite(startMs)) throw new UsageError(`--start must be an ISO 8601 time, got "${v.start}"`);
  }
  return {
    apiUrl: parseUrl('api', v.api, /^https?:$/, 'http:// or https://'),
    apiKey,
    mqttUrl: parseUrl('mqtt', v.mqtt ?? env.MQTT_URL ?? 'mqtt://127.0.0.1:1883', /^(mqtts?|tcp|tls|wss?):$/, 'mqtt://, mqtts://, tcp://, tls://, ws:// or wss://'),
    vehicles: parseNumber('vehicles', v.vehicles, 10, (n) => Number.isInteger(n) && n >= 1 && n <= MAX_VEHICLES, `a whole number from 1 to ${MAX_VEHICLES}`),
    intervalS: parseNumber('interval', v.interval, 5, (n) => n >= 0.1 && n <= 3600, 'a number of seconds from 0.1 to 3600'),
    seed: parseNumber('seed', v.seed, 1, (n) => Number.isSafeInteger(n), 'a whole number'),
    speedup: parseNumber('speedup', v.speedup, 1, (n) => n > 0 && n <= 10_000, 'a number above 0 and at most 10000'),
    startMs,
  };
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface ApiDepartment {
  id: string;
  code: string;
}

interface ApiVehicle {
  id: string;
  plateNumber: string;
  tankCapacityLitres: number;
  ratedLitresPer100Km: number;
  idleLitresPerHour: number;
}

interface ApiDevice {
  id: string;
  secret: string;
}

function createApi(baseUrl: string, apiKey: string) {
  return async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const url = `${baseUrl}/api/v1${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      const cause = (err as Error & { cause?: Error }).cause;
      throw new Error(`cannot reach the Armada API at ${baseUrl}: ${cause?.message ?? (err as Error).message}`);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiError(response.status, error?.code ?? `http_${response.status}`, `${method} ${path} answered ${response.status}: ${error?.message ?? text.slice(0, 200)}`);
    }
    return parsed as T;
  };
}

type Api = ReturnType<typeof createApi>;

const isConflict = (err: unknown): boolean => err instanceof ApiError && err.status === 409;

async function ensureDepartment(api: Api): Promise<string> {
  const find = async () => (await api<ApiDepartment[]>('GET', '/departments')).find((d) => d.code === SIM_DEPARTMENT.code);
  const existing = await find();
  if (existing) return existing.id;
  try {
    return (await api<ApiDepartment>('POST', '/departments', SIM_DEPARTMENT)).id;
  } catch (err) {
    // Another simulator may have created it in the meantime.
    const raced = isConflict(err) ? await find() : undefined;
    if (raced) return raced.id;
    throw err;
  }
}

function simPlate(index: number): string {
  return `SIM ${String(index).padStart(4, '0')}`;
}

function templateFor(index: number): DemoVehicle {
  return demoVehicles[(index - 1) % demoVehicles.length]!;
}

async function ensureVehicle(api: Api, departmentId: string, plateNumber: string, template: DemoVehicle, existing: () => Promise<ApiVehicle[]>): Promise<ApiVehicle> {
  const { sensor: _sensor, departmentCode: _departmentCode, ...fields } = template;
  try {
    return await api<ApiVehicle>('POST', '/vehicles', { ...fields, plateNumber, departmentId });
  } catch (err) {
    if (!isConflict(err)) throw err;
    const found = (await existing()).find((v) => v.plateNumber === plateNumber);
    if (!found) throw new Error(`vehicle ${plateNumber} exists but this API key cannot see it; use a key that can (an admin key)`);
    return found;
  }
}

async function registerDevice(api: Api, baseId: string, vehicleId: string, runSuffix: string): Promise<ApiDevice> {
  try {
    return await api<ApiDevice>('POST', '/devices', { id: baseId, vehicleId });
  } catch (err) {
    if (!isConflict(err)) throw err;
    // The old tracker's secret cannot be had again; this run brings a tracker of its own.
    return await api<ApiDevice>('POST', '/devices', { id: `${baseId}-${runSuffix}`, vehicleId });
  }
}

async function registerFleet(api: Api, count: number, log: (line: string) => void): Promise<LiveDevice[]> {
  const departmentId = await ensureDepartment(api);
  let vehicleList: Promise<ApiVehicle[]> | undefined;
  const existing = () => (vehicleList ??= api<ApiVehicle[]>('GET', '/vehicles'));
  const runSuffix = Date.now().toString(36);
  const devices: LiveDevice[] = [];
  for (let i = 1; i <= count; i++) {
    const template = templateFor(i);
    const plateNumber = simPlate(i);
    const vehicle = await ensureVehicle(api, departmentId, plateNumber, template, existing);
    const device = await registerDevice(api, plateNumber.toLowerCase().replace(' ', '-'), vehicle.id, runSuffix);
    const sim: SimVehicle = {
      deviceId: device.id,
      tankCapacityLitres: vehicle.tankCapacityLitres,
      ratedLitresPer100Km: vehicle.ratedLitresPer100Km,
      idleLitresPerHour: vehicle.idleLitresPerHour,
      sensor: template.sensor,
    };
    devices.push({ ...sim, secret: device.secret });
    if (i % 50 === 0 && i < count) log(`registered ${i} of ${count} vehicles`);
  }
  return devices;
}

function throttledErrorPrinter(write: (line: string) => void): (err: Error) => void {
  const lastShown = new Map<string, number>();
  return (err) => {
    const key = err.message.replace(/^device \S+: /, '');
    const now = Date.now();
    if (now - (lastShown.get(key) ?? 0) < ERROR_REPEAT_WINDOW_MS) return;
    lastShown.set(key, now);
    write(`simulator: ${err.message}`);
  };
}

async function main(): Promise<number> {
  let options: CliOptions | null;
  try {
    options = parseCliOptions(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`simulate: ${err.message}\n\nRun "npm run simulate -- --help" for the options.\n`);
    return 2;
  }
  if (!options) {
    process.stdout.write(USAGE);
    return 0;
  }
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const err = (line: string) => process.stderr.write(`${line}\n`);

  if (options.speedup > 1 && options.startMs === undefined) {
    err('simulate: warning: with --speedup above 1 the timestamps run ahead of the clock; readings more than the server\'s MAX_FUTURE_S ahead are quarantined. Use --start to begin in the past.');
  }

  const api = createApi(options.apiUrl, options.apiKey);
  let devices: LiveDevice[];
  try {
    devices = await registerFleet(api, options.vehicles, out);
  } catch (e) {
    err(`simulate: could not register the fleet: ${(e as Error).message}`);
    return 1;
  }
  out(`registered ${devices.length} vehicles in department ${SIM_DEPARTMENT.code}; connecting to ${options.mqttUrl}`);

  let simulation: Awaited<ReturnType<typeof startLiveSimulation>>;
  try {
    simulation = await startLiveSimulation({
      mqttUrl: options.mqttUrl,
      devices,
      intervalS: options.intervalS,
      seed: options.seed,
      speedup: options.speedup,
      ...(options.startMs === undefined ? {} : { startMs: options.startMs }),
      onError: throttledErrorPrinter(err),
    });
  } catch (e) {
    err(`simulate: ${(e as Error).message}`);
    return 1;
  }
  out(`simulating ${devices.length} vehicles: a reading every ${options.intervalS} s of simulated time, speedup ${options.speedup}, seed ${options.seed}. Ctrl-C stops.`);

  let lastCount = 0;
  const progress = setInterval(() => {
    const count = simulation.published();
    out(`${new Date().toISOString()} published ${count} readings (+${count - lastCount} in the last ${PROGRESS_EVERY_MS / 1000} s)`);
    lastCount = count;
  }, PROGRESS_EVERY_MS);

  await new Promise<void>((resolve) => {
    const onSignal = () => {
      process.once('SIGINT', () => process.exit(130));
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  clearInterval(progress);
  out('stopping…');
  await simulation.stop();
  out(`stopped; ${simulation.published()} readings published.`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`simulate: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
