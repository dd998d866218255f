import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { vehicles } from '../db/schema.js';
import type { DepartmentScope } from './scope.js';

export type Vehicle = typeof vehicles.$inferSelect;
export type NewVehicle = Omit<typeof vehicles.$inferInsert, 'id' | 'createdAt'>;
export type VehiclePatch = Partial<NewVehicle>;

function inScope(scope: DepartmentScope) {
  return scope.departmentId ? eq(vehicles.departmentId, scope.departmentId) : undefined;
}

export function vehicleRepository(db: Db) {
  return {
    async create(input: NewVehicle): Promise<Vehicle> {
      const [row] = await db.insert(vehicles).values(input).returning();
      return row!;
    },
    async list(scope: DepartmentScope, filter: { departmentId?: string } = {}): Promise<Vehicle[]> {
      const conditions = [inScope(scope), filter.departmentId ? eq(vehicles.departmentId, filter.departmentId) : undefined];
      return db
        .select()
        .from(vehicles)
        .where(and(...conditions))
        .orderBy(asc(vehicles.plateNumber));
    },
    /** The vehicle, if it exists and the scope may see it. */
    async findById(scope: DepartmentScope, id: string): Promise<Vehicle | undefined> {
      const [row] = await db
        .select()
        .from(vehicles)
        .where(and(eq(vehicles.id, id), inScope(scope)));
      return row;
    },
    async update(id: string, patch: VehiclePatch): Promise<Vehicle | undefined> {
      const [row] = await db.update(vehicles).set(patch).where(eq(vehicles.id, id)).returning();
      return row;
    },
  };
}
export type VehicleRepository = ReturnType<typeof vehicleRepository>;
