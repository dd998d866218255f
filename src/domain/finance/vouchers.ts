/**
 * Fuel vouchers, pure: how much may be granted, a voucher's status, and whether a
 * purchase naming one may use it. The ledger records facts, so a purchase is never
 * refused for its voucher: misuse is flagged by the reconciliation (voucher_exceeded).
 */
import { ML_PER_LITRE } from './money.js';

export type VoucherStatus = 'open' | 'redeemed' | 'expired';

export interface VoucherFactsRow {
  id: string;
  code: string;
  vehicleId: string;
  grantedMl: bigint;
  createdAtMs: number;
  expiresAtMs: number;
}

/** A purchase as far as vouchers care. */
export interface VoucherPurchase {
  id: string;
  seq: number;
  vehicleId: string;
  atMs: number;
  voucherCode: string | null;
}

/** The purchase that redeemed the voucher: the first in the ledger (lowest seq) by its vehicle within its validity. */
export function redeemingPurchase<P extends VoucherPurchase>(v: VoucherFactsRow, purchases: readonly P[]): P | undefined {
  return purchases
    .filter((p) => p.voucherCode === v.code && p.vehicleId === v.vehicleId && p.atMs >= v.createdAtMs && p.atMs <= v.expiresAtMs)
    .sort((a, b) => a.seq - b.seq)[0];
}

export function voucherStatus(v: VoucherFactsRow, purchases: readonly VoucherPurchase[], nowMs: number): VoucherStatus {
  if (redeemingPurchase(v, purchases)) return 'redeemed';
  return nowMs > v.expiresAtMs ? 'expired' : 'open';
}

/** What a purchase naming a voucher may take from it: the grant, or nothing with the reason. */
export function voucherUse(
  v: VoucherFactsRow | undefined,
  p: VoucherPurchase,
  purchases: readonly VoucherPurchase[],
): { grantedMl: bigint; problem: string | null } {
  if (!v) return { grantedMl: 0n, problem: 'no such voucher' };
  if (v.vehicleId !== p.vehicleId) return { grantedMl: 0n, problem: 'issued to another vehicle' };
  if (p.atMs < v.createdAtMs) return { grantedMl: 0n, problem: 'bought before the voucher was issued' };
  if (p.atMs > v.expiresAtMs) return { grantedMl: 0n, problem: `expired at ${new Date(v.expiresAtMs).toISOString()}` };
  const first = redeemingPurchase(v, purchases);
  if (first && first.id !== p.id) return { grantedMl: 0n, problem: `already redeemed by purchase ${first.id}` };
  return { grantedMl: v.grantedMl, problem: null };
}

export type GrantLimit = 'tank_room' | 'allocation_left' | 'no_recent_level';

/**
 * Litres a voucher may grant: at most what the tank can take now (capacity − the latest
 * level, which must be recent) and what is left of the month's allocation (allocation −
 * purchased − open vouchers). Asked for less, it grants what was asked.
 */
export function grantLitres(input: {
  requestedMl: bigint | null;
  tankCapacityMl: bigint;
  /** The latest level, when it is recent enough; null: unknown (the tank cannot vouch for room). */
  levelMl: bigint | null;
  allocationMl: bigint;
  purchasedMl: bigint;
  openVouchersMl: bigint;
}): { grantedMl: bigint; limitedBy: GrantLimit | null } {
  const room = input.levelMl === null ? null : input.tankCapacityMl - input.levelMl;
  const left = input.allocationMl - input.purchasedMl - input.openVouchersMl;
  const candidates: Array<{ ml: bigint; why: GrantLimit }> = [{ ml: left, why: 'allocation_left' }];
  if (room === null) return { grantedMl: 0n, limitedBy: 'no_recent_level' };
  candidates.push({ ml: room, why: 'tank_room' });
  let best = candidates.reduce((a, b) => (b.ml < a.ml ? b : a));
  if (best.ml < 0n) best = { ml: 0n, why: best.why };
  if (input.requestedMl !== null && input.requestedMl <= best.ml) return { grantedMl: input.requestedMl, limitedBy: null };
  // Whole decilitres: a pump cannot be stopped finer, and the code is read out by a person.
  const granted = (best.ml / 100n) * 100n;
  return { grantedMl: granted, limitedBy: best.why };
}

export const mlFromLitres = (litres: number): bigint => BigInt(Math.round(litres * Number(ML_PER_LITRE)));
