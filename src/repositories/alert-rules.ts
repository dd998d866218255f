import { and, eq, inArray, notInArray } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { departmentAlertRules, vehicles } from '../db/schema.js';
import type { DepartmentScope } from './scope.js';

export type DepartmentAlertRule = typeof departmentAlertRules.$inferSelect;

/** Per-department working hours for the outside-hours alert, and the vehicles exempt from it. */
export function alertRuleRepository(db: Db) {
  return {
    /** Every department's own working hours (the alert engine's view: all departments). */
    async all(): Promise<DepartmentAlertRule[]> {
      return db.select().from(departmentAlertRules);
    },
    async list(scope: DepartmentScope): Promise<DepartmentAlertRule[]> {
      return db
        .select()
        .from(departmentAlertRules)
        .where(scope.departmentId ? eq(departmentAlertRules.departmentId, scope.departmentId) : undefined);
    },
    /** Ids of the exempt vehicles the scope may see. */
    async exemptVehicleIds(scope: DepartmentScope): Promise<Array<{ id: string; departmentId: string }>> {
      return db
        .select({ id: vehicles.id, departmentId: vehicles.departmentId })
        .from(vehicles)
        .where(and(eq(vehicles.outsideHoursExempt, true), scope.departmentId ? eq(vehicles.departmentId, scope.departmentId) : undefined));
    },
    /**
     * Sets a department's rules in one transaction: its working hours (null: back to the
     * default) and exactly these of its vehicles exempt.
     */
    async set(
      departmentId: string,
      hours: { weekdays: number[]; startMin: number; endMin: number } | null,
      exemptIds: string[],
      at: Date,
    ): Promise<void> {
      await db.transaction(async (tx) => {
        if (hours) {
          await tx
            .insert(departmentAlertRules)
            .values({ departmentId, ...hours, updatedAt: at })
            .onConflictDoUpdate({ target: departmentAlertRules.departmentId, set: { ...hours, updatedAt: at } });
        } else {
          await tx.delete(departmentAlertRules).where(eq(departmentAlertRules.departmentId, departmentId));
        }
        await tx
          .update(vehicles)
          .set({ outsideHoursExempt: false })
          .where(and(eq(vehicles.departmentId, departmentId), exemptIds.length > 0 ? notInArray(vehicles.id, exemptIds) : undefined));
        if (exemptIds.length > 0) {
          await tx
            .update(vehicles)
            .set({ outsideHoursExempt: true })
            .where(and(eq(vehicles.departmentId, departmentId), inArray(vehicles.id, exemptIds)));
        }
      });
    },
  };
}
export type AlertRuleRepository = ReturnType<typeof alertRuleRepository>;
