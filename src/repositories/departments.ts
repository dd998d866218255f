import { asc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { departments } from '../db/schema.js';
import type { DepartmentScope } from './scope.js';

export type Department = typeof departments.$inferSelect;

export function departmentRepository(db: Db) {
  return {
    async create(input: { code: string; name: string }): Promise<Department> {
      const [row] = await db.insert(departments).values(input).returning();
      return row!;
    },
    async list(scope: DepartmentScope): Promise<Department[]> {
      const q = db.select().from(departments);
      return scope.departmentId ? q.where(eq(departments.id, scope.departmentId)) : q.orderBy(asc(departments.code));
    },
    async findById(id: string): Promise<Department | undefined> {
      const [row] = await db.select().from(departments).where(eq(departments.id, id));
      return row;
    },
    async findByCode(code: string): Promise<Department | undefined> {
      const [row] = await db.select().from(departments).where(eq(departments.code, code));
      return row;
    },
  };
}
export type DepartmentRepository = ReturnType<typeof departmentRepository>;
