/**
 * The services: what the API and the jobs compute over the repositories. Built once in
 * the composition root (src/runtime.ts) and passed to whoever needs them; a repository
 * never builds a service. A new service is added here.
 */
import { createAnalytics } from './analytics/service.js';
import { DEFAULT_ANALYTICS_SETTINGS, type AnalyticsSettings } from './analytics/settings.js';
import { createLedger, DEFAULT_LEDGER_SETTINGS, type LedgerSettings } from './finance/ledger.js';
import { createReconciliation } from './finance/reconciliation.js';
import { createSavings } from './finance/savings.js';
import { createVouchers } from './finance/vouchers.js';
import { DEFAULT_FINANCE_RECON_SETTINGS, type FinanceReconSettings } from './finance/settings.js';
import type { Repositories } from './repositories/index.js';

export interface ServiceSettings {
  analytics: AnalyticsSettings;
  ledger?: LedgerSettings;
  reconciliation?: FinanceReconSettings;
}

export function createServices(repos: Repositories, settings: ServiceSettings = { analytics: DEFAULT_ANALYTICS_SETTINGS }) {
  return {
    /** Trips, stops, fuel and the fleet report (src/analytics/service.ts). */
    analytics: createAnalytics(repos.analytics, settings.analytics),
    /** The purchase ledger: purchases, voids, idempotency, verify (src/finance/ledger.ts). */
    ledger: createLedger(repos, { ...(settings.ledger ?? DEFAULT_LEDGER_SETTINGS), reportTz: settings.analytics.reportTz }),
    /** Receipts judged against tank and position (src/finance/reconciliation.ts). */
    reconciliation: createReconciliation(repos, settings.reconciliation ?? DEFAULT_FINANCE_RECON_SETTINGS, settings.analytics),
    /** Savings against the allocation baseline (src/finance/savings.ts). */
    savings: createSavings(repos, settings.analytics.reportTz),
    /** Fuel vouchers (src/finance/vouchers.ts). */
    vouchers: createVouchers(repos, { voucherExpiryS: (settings.reconciliation ?? DEFAULT_FINANCE_RECON_SETTINGS).voucherExpiryS, reportTz: settings.analytics.reportTz }),
  };
}
export type DomainServices = ReturnType<typeof createServices>;
