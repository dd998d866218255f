/**
 * Closing a month: finance signs off a finished month; its savings and reconciliation
 * reports, for every department, are stored as they are (month_closings) and answered
 * from then on, so what was signed stays what it was. Receipts or readings for it that
 * arrive later show in the next month's reports as adjustments.
 */
import { AppError } from '../errors.js';
import type { Actor, AuditLogRepository } from '../repositories/finance/audit-log.js';
import type { ClosingRepository, ClosingRow } from '../repositories/finance/closings.js';
import type { Reconciliation, ReconVehicle } from './reconciliation.js';
import { monthRangeMs } from './reconciliation.js';
import type { Savings, SavingsVehicle } from './savings.js';

export interface ClosingDeps {
  closings: ClosingRepository;
  auditLog: Pick<AuditLogRepository, 'record'>;
}

export function createClosing(deps: ClosingDeps, services: { savings: Savings; reconciliation: Reconciliation }, reportTz: string) {
  return {
    /** Closes a finished month with every department's reports; 409 when it is not over or already closed. */
    async close(
      month: string,
      fleet: ReadonlyArray<ReconVehicle & SavingsVehicle>,
      departmentNames: ReadonlyMap<string, string>,
      actor: Actor,
      nowMs: number,
    ): Promise<ClosingRow> {
      const { toMs } = monthRangeMs(reportTz, month);
      if (nowMs < toMs)
        throw new AppError(
          409,
          'month_not_over',
          `${month} is not over yet (it ends ${new Date(toMs).toISOString()}); a month is closed once it is over.`,
        );
      if (await deps.closings.get(month))
        throw new AppError(409, 'already_closed', `${month} is already closed; what was signed stays as it was.`);
      const [savings, reconciliation] = await Promise.all([
        services.savings.month(fleet, month, departmentNames, nowMs),
        services.reconciliation.monthReport(fleet, month, nowMs),
      ]);
      const snapshot = { savings: { ...savings, closed: true }, reconciliation };
      const row = await deps.closings.create({ month, closedAtMs: nowMs, keyId: actor.keyId, keyName: actor.keyName, snapshot });
      if (!row) throw new AppError(409, 'already_closed', `${month} is already closed; what was signed stays as it was.`);
      await deps.auditLog.record(
        actor,
        {
          action: 'close',
          entity: 'month',
          entityId: month,
          departmentId: null,
          before: null,
          after: { month, savingsTotals: savings.totals, purchases: reconciliation.purchases.length },
        },
        new Date(nowMs),
      );
      return row;
    },
  };
}
export type Closing = ReturnType<typeof createClosing>;
