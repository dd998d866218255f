/**
 * What the simulator asks of Armada's REST API: a department SIM, its vehicles and one
 * tracker each (the tracker's secret is only ever shown once, so every run that finds
 * the old tracker registers a new one), and the receipts of the run's refuels.
 */
import type { OutputFormat } from './formats.js';
import { simDeviceId, simPlate, simTemplate } from './sim-fleet.js';
import type { ReceiptRecord } from './truth.js';
import type { LiveDevice } from './live.js';

export const SIM_DEPARTMENT = { code: 'SIM', name: 'Simulated fleet' };

export class ApiError extends Error {
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

export type Api = <T>(method: 'GET' | 'POST', path: string, body?: unknown) => Promise<T>;

/** How often one request is tried again after a 429 or a 503 before the error is given up on. */
export const MAX_RETRIES = 20;
/** The wait when a 429 or 503 names none (or an unreadable one), and the most ever waited at once. */
const DEFAULT_RETRY_S = 1;
const MAX_RETRY_S = 120;

/** Seconds to wait from a Retry-After header: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterSeconds(header: string | null, nowMs = Date.now()): number {
  if (header === null || header.trim() === '') return DEFAULT_RETRY_S;
  const trimmed = header.trim();
  const seconds = /^\d+$/.test(trimmed) ? Number(trimmed) : (Date.parse(trimmed) - nowMs) / 1000;
  if (!Number.isFinite(seconds)) return DEFAULT_RETRY_S;
  return Math.min(MAX_RETRY_S, Math.max(0, seconds));
}

export interface ApiOptions {
  /** Told before each wait that a 429 or 503 asks for. */
  onRetry?: (info: { method: string; path: string; status: number; waitS: number }) => void;
}

/**
 * Calls the API with the key. A 429 (the API's rate limit: registering a fleet of a few
 * hundred vehicles passes the default 600 requests a minute) or a 503 (the database
 * unreachable for a moment) is waited out as its Retry-After says and the request sent
 * again, up to MAX_RETRIES times.
 */
export function createApi(baseUrl: string, apiKey: string, options: ApiOptions = {}): Api {
  return async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const url = `${baseUrl}/api/v1${path}`;
    let response: Response;
    for (let attempt = 0; ; attempt++) {
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
      if ((response.status !== 429 && response.status !== 503) || attempt >= MAX_RETRIES) break;
      const waitS = retryAfterSeconds(response.headers.get('retry-after'));
      await response.body?.cancel();
      options.onRetry?.({ method, path, status: response.status, waitS });
      await new Promise((resolve) => setTimeout(resolve, waitS * 1000));
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
      throw new ApiError(
        response.status,
        error?.code ?? `http_${response.status}`,
        `${method} ${path} answered ${response.status}: ${error?.message ?? text.slice(0, 200)}`,
      );
    }
    return parsed as T;
  };
}

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

export interface RegisteredFleet {
  devices: LiveDevice[];
  /** Armada's vehicle id for each device id, for the receipts. */
  vehicleIds: Map<string, string>;
}

export async function registerFleet(api: Api, count: number, format: OutputFormat, log: (line: string) => void): Promise<RegisteredFleet> {
  const departmentId = await ensureDepartment(api);
  let vehicleList: Promise<ApiVehicle[]> | undefined;
  const existing = () => (vehicleList ??= api<ApiVehicle[]>('GET', '/vehicles'));
  const runSuffix = Date.now().toString(36);
  const devices: LiveDevice[] = [];
  const vehicleIds = new Map<string, string>();
  for (let i = 1; i <= count; i++) {
    const template = simTemplate(i);
    const plateNumber = simPlate(i);
    const { sensor: _sensor, departmentCode, ...fields } = template;
    let vehicle: ApiVehicle;
    try {
      vehicle = await api<ApiVehicle>('POST', '/vehicles', { ...fields, plateNumber, departmentId });
    } catch (err) {
      if (!isConflict(err)) throw err;
      const found = (await existing()).find((v) => v.plateNumber === plateNumber);
      if (!found) throw new Error(`vehicle ${plateNumber} exists but this API key cannot see it; use a key that can (an admin key)`);
      vehicle = found;
    }
    const protocol = format === 'owntracks' ? { protocol: 'owntracks' } : {};
    const baseId = simDeviceId(i, format);
    let device: ApiDevice;
    try {
      device = await api<ApiDevice>('POST', '/devices', { id: baseId, vehicleId: vehicle.id, ...protocol });
    } catch (err) {
      if (!isConflict(err)) throw err;
      // The old tracker's secret cannot be had again; this run brings a tracker of its own.
      device = await api<ApiDevice>('POST', '/devices', { id: `${baseId}-${runSuffix}`, vehicleId: vehicle.id, ...protocol });
    }
    devices.push({
      deviceId: device.id,
      secret: device.secret,
      plateNumber,
      kind: template.kind,
      fuelType: template.fuelType,
      departmentCode,
      tankCapacityLitres: vehicle.tankCapacityLitres,
      ratedLitresPer100Km: vehicle.ratedLitresPer100Km,
      idleLitresPerHour: vehicle.idleLitresPerHour,
      sensor: template.sensor,
    });
    vehicleIds.set(device.id, vehicle.id);
    if (i % 50 === 0 && i < count) log(`registered ${i} of ${count} vehicles`);
  }
  return { devices, vehicleIds };
}

/**
 * Posts receipts to POST /api/v1/fuel-purchases. A server without that endpoint (404)
 * is told once and skipped; other failures are counted and the first is reported.
 */
export function createReceiptPoster(api: Api, vehicleIds: Map<string, string>, warn: (line: string) => void) {
  let available = true;
  let posted = 0;
  let failed = 0;
  return {
    async post(receipt: ReceiptRecord): Promise<void> {
      if (!available) return;
      const vehicleId = vehicleIds.get(receipt.deviceId);
      if (!vehicleId) return;
      try {
        await api('POST', '/fuel-purchases', {
          vehicleId,
          at: receipt.at,
          litres: receipt.litres,
          amountIdr: receipt.amountIdr,
          fuelType: receipt.fuelType,
          station: receipt.stationCode,
          lat: receipt.lat,
          lon: receipt.lon,
          receiptNo: receipt.receiptNo,
        });
        posted += 1;
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) {
          available = false;
          warn(
            'simulate: warning: receipts endpoint not available on this server (POST /api/v1/fuel-purchases answered 404); receipts skipped',
          );
          return;
        }
        failed += 1;
        if (failed === 1) warn(`simulate: warning: posting a receipt failed: ${(err as Error).message}`);
      }
    },
    summary: () => ({ posted, failed, available }),
  };
}
