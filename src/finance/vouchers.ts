/**
 * Fuel vouchers (the SiHebat way): a grant of litres to a vehicle, at most what its tank
 * can take now (capacity − the latest level, at most 30 minutes old) and what is left of
 * the month's allocation (allocation − purchased − open vouchers). A purchase naming the
 * code redeems it; voiding that purchase reopens it; misuse is flagged by the
 * reconciliation (voucher_exceeded), never refused.
 */
import { randomInt } from 'node:crypto';
import { AppError } from '../errors.js';
import { grantLitres, voucherStatus, type GrantLimit, type VoucherPurchase, type VoucherStatus } from '../domain/finance/vouchers.js';
import { levelLitres } from '../domain/fuel/index.js';
import { localDayOf } from '../domain/report-time.js';
import type { Actor, AuditLogRepository } from '../repositories/finance/audit-log.js';
import type { EvidenceRepository } from '../repositories/finance/evidence.js';
import type { SavingsRepository } from '../repositories/finance/savings.js';
import type { VoucherRepository, VoucherRow } from '../repositories/finance/vouchers.js';
import type { EffectivePurchase } from '../repositories/finance/purchases.js';
import { monthRangeMs, type PurchaseReader } from './reconciliation.js';

/** A level older than this cannot say how much room the tank has. */
export const LEVEL_MAX_AGE_MS = 30 * 60_000;

const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // no 0/O or 1/I: it is read out at a counter
/** A short code nobody can guess: 10 characters of 32 (50 bits) from the system's CSPRNG. */
export function newVoucherCode(): string {
  let out = '';
  for (let i = 0; i < 10; i++) out += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return out;
}

export const limitReasons: Record<GrantLimit, string> = {
  tank_room: 'the tank cannot take more now (capacity − the latest level)',
  allocation_left: "what is left of the month's allocation (allocation − purchased − open vouchers)",
  no_recent_level: 'no tank level from the last 30 minutes: the room in the tank is unknown',
};

export interface VoucherVehicle {
  id: string;
  plateNumber: string;
  departmentId: string;
  tankCapacityLitres: number;
  monthlyAllocationLitres: number;
}

export interface VoucherView {
  row: VoucherRow;
  status: VoucherStatus;
  redeemedBy: string | null;
}

export interface VoucherDeps {
  vouchers: VoucherRepository;
  purchases: PurchaseReader;
  evidence: Pick<EvidenceRepository, 'latestLevel'>;
  savings: Pick<SavingsRepository, 'allocations'>;
  auditLog: Pick<AuditLogRepository, 'record'>;
}

const toVp = (p: EffectivePurchase): VoucherPurchase => ({
  id: p.id,
  seq: p.seq,
  vehicleId: p.vehicleId,
  atMs: p.at.getTime(),
  voucherCode: p.voucherCode,
});

export function createVouchers(deps: VoucherDeps, settings: { voucherExpiryS: number; reportTz: string }) {
  const tz = settings.reportTz;
  /** One grant at a time per vehicle in this process (and across processes on PostgreSQL). */
  const queues = new Map<string, Promise<unknown>>();

  /** Statuses of vouchers, from the purchases that name them (voided ones do not count). */
  async function withStatus(rows: readonly VoucherRow[], nowMs: number): Promise<VoucherView[]> {
    if (rows.length === 0) return [];
    const from = Math.min(...rows.map((r) => r.createdAtMs));
    const to = Math.max(...rows.map((r) => r.expiresAtMs)) + 1;
    const purchases = (
      await deps.purchases.effectivePurchases({ vehicleIds: [...new Set(rows.map((r) => r.vehicleId))], fromMs: from, toMs: to })
    )
      .filter((p) => p.voucherCode !== null)
      .map(toVp);
    return rows.map((row) => {
      const redeemer = purchases
        .filter(
          (p) => p.voucherCode === row.code && p.vehicleId === row.vehicleId && p.atMs >= row.createdAtMs && p.atMs <= row.expiresAtMs,
        )
        .sort((a, b) => a.seq - b.seq)[0];
      return { row, status: voucherStatus(row, purchases, nowMs), redeemedBy: redeemer?.id ?? null };
    });
  }

  async function grant(
    vehicle: VoucherVehicle,
    requestedMl: bigint | null,
    actor: Actor,
    nowMs: number,
  ): Promise<VoucherView & { reason: string | null }> {
    const month = localDayOf(tz, nowMs).slice(0, 7);
    const { fromMs, toMs } = monthRangeMs(tz, month);
    const [latest, allocations, bought, recent] = await Promise.all([
      deps.evidence.latestLevel(vehicle.id),
      deps.savings.allocations([vehicle.id]),
      deps.purchases.effectivePurchases({ vehicleIds: [vehicle.id], fromMs, toMs }),
      deps.vouchers.validAt(vehicle.id, nowMs),
    ]);
    const level = latest && nowMs - latest.fixAtMs <= LEVEL_MAX_AGE_MS ? levelLitres(latest, vehicle.tankCapacityLitres) : null;
    const inForce = [...allocations].reverse().find((a) => a.fromMonth <= month) ?? allocations[0];
    const allocationMl = inForce ? inForce.litresMl : BigInt(Math.round(vehicle.monthlyAllocationLitres * 1000));
    const open = (await withStatus(recent, nowMs)).filter((v) => v.status === 'open');
    const { grantedMl, limitedBy } = grantLitres({
      requestedMl,
      tankCapacityMl: BigInt(Math.round(vehicle.tankCapacityLitres * 1000)),
      levelMl: level === null ? null : BigInt(Math.round(level * 1000)),
      allocationMl,
      purchasedMl: bought.reduce((s, p) => s + p.litresMl, 0n),
      openVouchersMl: open.reduce((s, v) => s + v.row.grantedMl, 0n),
    });
    if (grantedMl <= 0n) {
      const reason = limitedBy ?? 'allocation_left';
      throw new AppError(409, reason, `No voucher: ${limitReasons[reason]}.`, { reason });
    }
    const row = await deps.vouchers.create({
      code: newVoucherCode(),
      vehicleId: vehicle.id,
      departmentId: vehicle.departmentId,
      requestedMl,
      grantedMl,
      limitedBy,
      createdAtMs: nowMs,
      expiresAtMs: nowMs + settings.voucherExpiryS * 1000,
      createdByKeyId: actor.keyId,
    });
    await deps.auditLog.record(
      actor,
      {
        action: 'issue',
        entity: 'fuel_voucher',
        entityId: row.id,
        departmentId: row.departmentId,
        before: null,
        after: {
          code: row.code,
          vehicleId: row.vehicleId,
          requestedMl,
          grantedMl,
          limitedBy,
          expiresAt: new Date(row.expiresAtMs).toISOString(),
        },
      },
      new Date(nowMs),
    );
    return { row, status: 'open', redeemedBy: null, reason: limitedBy ? limitReasons[limitedBy] : null };
  }

  return {
    withStatus,
    /** Issues a voucher (serialised per vehicle, so two at once cannot both take the same litres). */
    issue(vehicle: VoucherVehicle, requestedMl: bigint | null, actor: Actor, nowMs: number) {
      const before = queues.get(vehicle.id) ?? Promise.resolve();
      const next = before.then(() => deps.vouchers.withVehicleLock(vehicle.id, () => grant(vehicle, requestedMl, actor, nowMs)));
      const settled = next.catch(() => undefined);
      queues.set(vehicle.id, settled);
      void settled.then(() => {
        if (queues.get(vehicle.id) === settled) queues.delete(vehicle.id);
      });
      return next;
    },
  };
}
export type Vouchers = ReturnType<typeof createVouchers>;
