/** The reconciliation's settings (FINANCE_* in src/config.ts): the judging, vouchers and the settle job. */
import { DEFAULT_RECONCILE_SETTINGS, type ReconcileSettings } from '../domain/finance/reconcile.js';

export interface FinanceReconSettings extends ReconcileSettings {
  /** How long a voucher stays open. */
  voucherExpiryS: number;
  /** Seconds between runs of the settle job. */
  settleIntervalS: number;
}

export const DEFAULT_FINANCE_RECON_SETTINGS: FinanceReconSettings = Object.freeze({
  ...DEFAULT_RECONCILE_SETTINGS,
  voucherExpiryS: 24 * 3600,
  settleIntervalS: 60,
});
