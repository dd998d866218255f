/** Departments' yearly fuel budgets in rupiah: set (and changed) by finance, every change in the audit log. */
import type { Database } from '../../db/client.js';
import { writeAudit, type Actor } from './audit-log.js';

export interface Budget {
  departmentId: string;
  year: number;
  amountIdr: bigint;
  updatedAt: Date;
}

const SELECT = 'SELECT department_id, year, amount_idr::text AS amount, updated_at FROM department_budgets';
const toBudget = (r: Record<string, unknown>): Budget => ({
  departmentId: String(r.department_id),
  year: Number(r.year),
  amountIdr: BigInt(String(r.amount)),
  updatedAt: new Date(r.updated_at as string),
});

export function budgetRepository(database: Database) {
  return {
    async list(filter: { departmentId?: string | undefined; year?: number | undefined }): Promise<Budget[]> {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.departmentId) where.push(`department_id = $${params.push(filter.departmentId)}`);
      if (filter.year !== undefined) where.push(`year = $${params.push(filter.year)}`);
      const rows = await database.query(
        `${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY year, department_id`,
        params,
      );
      return rows.map(toBudget);
    },
    async find(departmentId: string, year: number): Promise<Budget | undefined> {
      const [row] = await database.query(`${SELECT} WHERE department_id = $1 AND year = $2`, [departmentId, year]);
      return row ? toBudget(row) : undefined;
    },
    /** Sets the budget; answers it and whether it was new. Unchanged: nothing written. */
    async set(
      departmentId: string,
      year: number,
      amountIdr: bigint,
      actor: Actor,
      at: Date,
    ): Promise<{ budget: Budget; created: boolean }> {
      return database.transaction(async (tx) => {
        const [prior] = await tx.query(`${SELECT} WHERE department_id = $1 AND year = $2 FOR UPDATE`, [departmentId, year]);
        const before = prior ? toBudget(prior) : undefined;
        if (before && before.amountIdr === amountIdr) return { budget: before, created: false };
        const [row] = await tx.query(
          `INSERT INTO department_budgets (department_id, year, amount_idr, updated_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (department_id, year) DO UPDATE SET amount_idr = excluded.amount_idr, updated_at = excluded.updated_at
           RETURNING department_id, year, amount_idr::text AS amount, updated_at`,
          [departmentId, year, amountIdr.toString(), at],
        );
        const budget = toBudget(row!);
        await writeAudit(
          tx,
          actor,
          {
            action: before ? 'department_budget.update' : 'department_budget.create',
            entity: 'department_budget',
            entityId: `${departmentId}/${year}`,
            departmentId,
            before: before ? { year, amountIdr: before.amountIdr } : null,
            after: { year, amountIdr },
          },
          at,
        );
        return { budget, created: !before };
      });
    },
  };
}
export type BudgetRepository = ReturnType<typeof budgetRepository>;
