/**
 * The services: what the API and the jobs compute over the repositories. Built once in
 * the composition root (src/runtime.ts) and passed to whoever needs them; a repository
 * never builds a service. A new service is added here.
 */
import { createAnalytics } from './analytics/service.js';
import { DEFAULT_ANALYTICS_SETTINGS, type AnalyticsSettings } from './analytics/settings.js';
import { createAuditLog } from './finance/audit.js';
import { createCatalog } from './finance/catalog.js';
import { createLedger, DEFAULT_LEDGER_SETTINGS, type LedgerSettings } from './finance/ledger.js';
import { createClosing } from './finance/closing.js';
import { createReconciliation } from './finance/reconciliation.js';
import { createSavings } from './finance/savings.js';
import { createVouchers } from './finance/vouchers.js';
import { DEFAULT_FINANCE_RECON_SETTINGS, type FinanceReconSettings } from './finance/settings.js';
import { createStatementImport } from './finance/statement-import.js';
import type { Repositories } from './repositories/index.js';

export interface ServiceSettings {
  analytics: AnalyticsSettings;
  ledger?: LedgerSettings;
  reconciliation?: FinanceReconSettings;
}

export function createServices(repos: Repositories, settings: ServiceSettings = { analytics: DEFAULT_ANALYTICS_SETTINGS }) {
  const reconciliation = createReconciliation(repos, settings.reconciliation ?? DEFAULT_FINANCE_RECON_SETTINGS, settings.analytics);
  const savings = createSavings(repos, settings.analytics.reportTz);
  const ledger = createLedger(repos, { ...(settings.ledger ?? DEFAULT_LEDGER_SETTINGS), reportTz: settings.analytics.reportTz });
  return {
    /** Trips, stops, fuel and the fleet report (src/analytics/service.ts). */
    analytics: createAnalytics(repos.analytics, settings.analytics),
    /** Who changed what in finance and access (src/finance/audit.ts). */
    auditLog: createAuditLog(repos),
    /** Prices, stations, allocations and budgets (src/finance/catalog.ts). */
    catalog: createCatalog(repos, { reportTz: settings.analytics.reportTz }),
    /** The purchase ledger: purchases, voids, idempotency, verify (src/finance/ledger.ts). */
    ledger,
    /** Fuel-card statements (CSV) into the ledger (src/finance/statement-import.ts). */
    statementImport: createStatementImport(repos, ledger),
    /** Receipts judged against tank and position (src/finance/reconciliation.ts). */
    reconciliation,
    /** Savings against the allocation baseline (src/finance/savings.ts). */
    savings,
    /** Closing a month: its reports frozen (src/finance/closing.ts). */
    closing: createClosing(repos, { savings, reconciliation }, settings.analytics.reportTz),
    /** Fuel vouchers (src/finance/vouchers.ts). */
    vouchers: createVouchers(repos, {
      voucherExpiryS: (settings.reconciliation ?? DEFAULT_FINANCE_RECON_SETTINGS).voucherExpiryS,
      reportTz: settings.analytics.reportTz,
    }),
  };
}
export type DomainServices = ReturnType<typeof createServices>;
