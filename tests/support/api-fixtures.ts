/**
 * The fleet and finance records API tests set up through the API itself: departments,
 * vehicles with the usual figures, API keys by role, and fuel purchases. Each throws with
 * the API's answer when it refuses, so a broken setup fails where it happened.
 */
import type { TestService } from './service.js';

export async function readJson<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

async function accepted<T>(res: Response, what: string): Promise<T> {
  if (!res.ok) throw new Error(`${what}: ${res.status} ${await res.text()}`);
  return readJson<T>(res);
}

/** A department; answers its id. */
export async function createDepartment(t: TestService, code: string, name = `Dinas ${code}`): Promise<string> {
  const res = await t.api('/api/v1/departments', { method: 'POST', json: { code, name } });
  return (await accepted<{ id: string }>(res, `department ${code}`)).id;
}

/** The figures of the tests' usual vehicle: a petrol car with a 50 L tank and 200 L a month. */
export const USUAL_VEHICLE = {
  kind: 'car',
  fuelType: 'pertalite',
  tankCapacityLitres: 50,
  ratedLitresPer100Km: 10,
  idleLitresPerHour: 0.8,
  monthlyAllocationLitres: 200,
} as const;

/** A vehicle with the usual figures (or others given in `over`); answers its id. */
export async function createVehicle(
  t: TestService,
  plateNumber: string,
  departmentId: string,
  over: Record<string, unknown> = {},
): Promise<string> {
  const res = await t.api('/api/v1/vehicles', { method: 'POST', json: { plateNumber, departmentId, ...USUAL_VEHICLE, ...over } });
  return (await accepted<{ id: string }>(res, `vehicle ${plateNumber}`)).id;
}

/** An API key of `role` (named after it unless `name` is given), of one department when `departmentId` is. */
export async function issueKey(
  t: TestService,
  role: string,
  options: { name?: string; departmentId?: string } = {},
): Promise<{ id: string; key: string }> {
  const json = { name: options.name ?? role, role, ...(options.departmentId ? { departmentId: options.departmentId } : {}) };
  return accepted<{ id: string; key: string }>(await t.api('/api/v1/api-keys', { method: 'POST', json }), `${role} key`);
}

export interface PurchaseInput {
  vehicleId: string;
  at: string;
  litres: number;
  amountIdr: number;
  receiptNo: string;
  /** pertalite unless given. */
  fuelType?: string;
  voucherCode?: string;
}

/** Records a purchase in the ledger with `key` (a finance key); it must be a new entry (201). Answers its id. */
export async function recordPurchase(t: TestService, key: string, purchase: PurchaseInput): Promise<string> {
  const res = await t.api('/api/v1/fuel-purchases', { method: 'POST', key, json: { fuelType: 'pertalite', ...purchase } });
  if (res.status !== 201) throw new Error(`purchase ${purchase.receiptNo}: ${res.status} ${await res.text()}`);
  return (await readJson<{ id: string }>(res)).id;
}
