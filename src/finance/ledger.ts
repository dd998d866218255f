/**
 * The purchase ledger's rules: what a purchase must be to be recorded, when a second
 * posting is the same purchase (idempotency), when it is a different one with a receipt
 * number already used (`duplicate_receipt`), and voids. The ledger records facts: a
 * suspicious purchase is recorded and flagged, never refused; only what is not a purchase
 * at all (no litres, an unknown vehicle, a time in the future) is refused.
 */
import { createHash } from 'node:crypto';
import { fuelTypes } from '../db/schema.js';
import { AppError, BadRequestError, ConflictError, NotFoundError } from '../errors.js';
import { formatLitres, parseLitres } from '../domain/finance/money.js';
import type { Repositories } from '../repositories/index.js';
import type { Actor } from '../repositories/finance/audit-log.js';
import type { PurchaseFields } from '../domain/finance/ledger-chain.js';
import type { EntryFlag, LedgerEntry, LedgerTx } from '../repositories/finance/purchases.js';
import type { DepartmentScope } from '../repositories/scope.js';

export interface LedgerSettings {
  /** How far ahead of the server's clock a purchase time may be (receipt printers' clocks drift). */
  maxFutureS: number;
  /** Where local days and statement times without an offset are read (REPORT_TZ). */
  reportTz: string;
}

export const DEFAULT_LEDGER_SETTINGS: LedgerSettings = Object.freeze({ maxFutureS: 300, reportTz: 'Asia/Makassar' });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Fuels sold by the litre (a purchase of electricity is not a ledger entry). */
export const LITRE_FUEL_TYPES = fuelTypes.filter((f) => f !== 'electric');

/** A purchase as posted (JSON body or a statement row), before validation against the database. */
export interface PurchaseInput {
  vehicleId: string;
  at: string;
  litres: number | string;
  amountIdr: number;
  fuelType: string;
  station?: string | null | undefined;
  lat?: number | null | undefined;
  lon?: number | null | undefined;
  receiptNo?: string | null | undefined;
  odometerKm?: number | null | undefined;
  voucherCode?: string | null | undefined;
}

export interface FieldProblem {
  field: string;
  message: string;
}

/** A 400 whose message and details name each field that is wrong. */
export class FieldValidationError extends AppError {
  constructor(readonly problems: FieldProblem[]) {
    super(400, 'validation_failed', `Invalid request: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, problems);
  }
}

export interface WriteContext {
  actor: Actor;
  scope: DepartmentScope;
  now: Date;
  idempotencyKey?: string | undefined;
  source?: 'api' | 'import' | 'simulator' | 'seed';
  /** Field names in problems are prefixed with this (`body.` for the API, `` for a statement row). */
  fieldPrefix?: string;
}

export type AppendOutcome = { entry: LedgerEntry; outcome: 'created' | 'existing' };

/** A validated purchase, ready to append. */
interface Checked extends PurchaseFields {
  requestSha256: string;
  /** The station code is not in the register (when checked). */
  unknownStation: boolean;
}

/** SHA-256 of the purchase's normalised content: tells a replay from a different body under the same key. */
export function requestSha256(c: Omit<Checked, 'requestSha256' | 'departmentId' | 'unknownStation'>): string {
  const canonical = JSON.stringify([
    c.vehicleId,
    c.at.toISOString(),
    formatLitres(c.litresMl),
    c.amountIdr.toString(),
    c.fuelType,
    c.stationCode,
    c.lat,
    c.lon,
    c.receiptNo,
    c.odometerKm,
    c.voucherCode,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

export function createLedger(
  repos: Pick<Repositories, 'purchases' | 'vehicles' | 'stations'>,
  settings: LedgerSettings = DEFAULT_LEDGER_SETTINGS,
) {
  /** Checks a purchase against the rules and the registers; problems name the field. */
  async function check(
    input: PurchaseInput,
    ctx: WriteContext,
  ): Promise<{ checked?: Checked; problems: FieldProblem[]; notFound?: string }> {
    const p = ctx.fieldPrefix ?? 'body.';
    const problems: FieldProblem[] = [];
    let litresMl = 0n;
    try {
      litresMl = parseLitres(input.litres);
      if (litresMl <= 0n) problems.push({ field: `${p}litres`, message: 'must be more than 0' });
    } catch (err) {
      problems.push({ field: `${p}litres`, message: (err as Error).message });
    }
    if (!Number.isSafeInteger(input.amountIdr) || input.amountIdr < 0) {
      problems.push({ field: `${p}amountIdr`, message: 'must be a whole number of rupiah, 0 or more' });
    }
    const atMs = Date.parse(input.at);
    if (Number.isNaN(atMs)) problems.push({ field: `${p}at`, message: 'is not a time' });
    else if (atMs > ctx.now.getTime() + settings.maxFutureS * 1000) {
      problems.push({ field: `${p}at`, message: `is in the future (${input.at}; the server's time is ${ctx.now.toISOString()})` });
    }
    if (!(LITRE_FUEL_TYPES as readonly string[]).includes(input.fuelType)) {
      problems.push({ field: `${p}fuelType`, message: `unknown fuel type "${input.fuelType}": one of ${LITRE_FUEL_TYPES.join(', ')}` });
    }
    const lat = input.lat ?? null;
    const lon = input.lon ?? null;
    if ((lat === null) !== (lon === null))
      problems.push({ field: `${p}${lat === null ? 'lat' : 'lon'}`, message: 'give lat and lon together, or neither' });
    const stationCode = input.station?.trim() || null;
    // A station not (yet) in the register is recorded as the receipt says, and flagged: its
    // position comes from the register once it is registered (it is looked up when read).
    const unknownStation = stationCode !== null && !(await repos.stations.findByCode(stationCode));
    const vehicle = UUID.test(input.vehicleId) ? await repos.vehicles.findById(ctx.scope, input.vehicleId) : undefined;
    if (!vehicle) return { problems, notFound: `${p}vehicleId` };
    if (problems.length > 0) return { problems };
    const content = {
      vehicleId: vehicle.id,
      at: new Date(atMs),
      litresMl,
      amountIdr: BigInt(input.amountIdr),
      fuelType: input.fuelType,
      stationCode,
      lat,
      lon,
      receiptNo: input.receiptNo?.trim() || null,
      odometerKm: input.odometerKm ?? null,
      voucherCode: input.voucherCode?.trim() || null,
    };
    return { checked: { ...content, departmentId: vehicle.departmentId, requestSha256: requestSha256(content), unknownStation }, problems };
  }

  /** The idempotency and duplicate-receipt rules, inside the ledger's lock. */
  async function appendChecked(ledger: LedgerTx, c: Checked, ctx: WriteContext): Promise<AppendOutcome> {
    if (ctx.idempotencyKey) {
      const prior = await ledger.findByIdempotencyKey(ctx.idempotencyKey);
      if (prior) {
        if (prior.requestSha256 === c.requestSha256) return { entry: prior, outcome: 'existing' };
        throw new ConflictError(
          `The Idempotency-Key "${ctx.idempotencyKey}" was already used for a different purchase (entry ${prior.seq}, id ${prior.id}); ` +
            'the body differs. Use a new key for a new purchase.',
        );
      }
    }
    const flags: EntryFlag[] = [];
    if (c.unknownStation) {
      flags.push({
        kind: 'unknown_station',
        detail: `station ${c.stationCode} is not in the register; register it (POST /api/v1/fuel-stations) to place the purchase`,
      });
    }
    if (c.receiptNo) {
      const same = await ledger.findSameReceipt({
        vehicleId: c.vehicleId,
        receiptNo: c.receiptNo,
        at: c.at,
        litresMl: c.litresMl,
        amountIdr: c.amountIdr,
      });
      if (same) return { entry: same, outcome: 'existing' };
      const standing = await ledger.findStandingByReceiptNo(c.receiptNo, c.stationCode);
      if (standing.length > 0) {
        const first = standing[0]!;
        flags.push({
          kind: 'duplicate_receipt',
          detail:
            `receipt ${c.receiptNo}${c.stationCode ? ` of station ${c.stationCode}` : ''} is already recorded with different content ` +
            `(entry ${first.seq}, id ${first.id}, ${first.plateNumber})`,
        });
      }
    }
    const entry = await ledger.insert(
      {
        kind: 'purchase',
        vehicleId: c.vehicleId,
        departmentId: c.departmentId,
        at: c.at,
        litresMl: c.litresMl,
        amountIdr: c.amountIdr,
        fuelType: c.fuelType,
        stationCode: c.stationCode,
        lat: c.lat,
        lon: c.lon,
        receiptNo: c.receiptNo,
        odometerKm: c.odometerKm,
        voucherCode: c.voucherCode,
        source: ctx.source ?? 'api',
        idempotencyKey: ctx.idempotencyKey ?? null,
        requestSha256: c.requestSha256,
        entryFlags: flags,
      },
      ctx.actor,
      ctx.now,
    );
    return { entry, outcome: 'created' };
  }

  return {
    check,
    appendChecked,
    /** Records a purchase, or answers the entry it repeats. */
    async record(input: PurchaseInput, ctx: WriteContext): Promise<AppendOutcome> {
      const { checked, problems, notFound } = await check(input, ctx);
      if (notFound) throw new AppError(404, 'not_found', `${notFound}: vehicle not found`);
      if (!checked) throw new FieldValidationError(problems);
      return repos.purchases.inLedger((ledger) => appendChecked(ledger, checked, ctx));
    },
    /** Voids a standing purchase with a new entry; a purchase is voided at most once. */
    async void(id: string, reason: string, ctx: WriteContext): Promise<LedgerEntry> {
      const visible = await repos.purchases.findById(ctx.scope, id);
      if (!visible) throw new NotFoundError('Purchase');
      return repos.purchases.inLedger(async (ledger) => {
        const target = (await ledger.findById(id))!;
        if (target.kind !== 'purchase') throw new BadRequestError(`Entry ${target.seq} is itself a void; only a purchase can be voided.`);
        if (target.voidedBy) {
          throw new ConflictError(
            `Purchase ${target.id} (entry ${target.seq}) was already voided by entry ${target.voidedBy.seq} (id ${target.voidedBy.id}); ` +
              'a purchase is voided at most once.',
          );
        }
        return ledger.insert(
          {
            kind: 'void',
            voidsId: target.id,
            reason,
            vehicleId: target.vehicleId,
            departmentId: target.departmentId,
            at: target.at,
            litresMl: target.litresMl,
            amountIdr: target.amountIdr,
            fuelType: target.fuelType,
            stationCode: target.stationCode,
            lat: target.lat,
            lon: target.lon,
            receiptNo: target.receiptNo,
            odometerKm: target.odometerKm,
            voucherCode: target.voucherCode,
            source: ctx.source ?? 'api',
          },
          ctx.actor,
          ctx.now,
        );
      });
    },
    verify: () => repos.purchases.verify(),
    settings,
  };
}
export type Ledger = ReturnType<typeof createLedger>;
