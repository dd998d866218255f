import { and, asc, eq, isNull, or } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { geofences } from '../db/schema.js';
import type { DepartmentScope } from './scope.js';

export type Geofence = typeof geofences.$inferSelect;

export function geofenceRepository(db: Db) {
  /** A department's key sees its own geofences and the city-wide ones. */
  const visible = (scope: DepartmentScope) => (scope.departmentId ? or(isNull(geofences.departmentId), eq(geofences.departmentId, scope.departmentId)) : undefined);
  return {
    async create(input: Omit<typeof geofences.$inferInsert, 'id' | 'createdAt'>): Promise<Geofence> {
      const [row] = await db.insert(geofences).values(input).returning();
      return row!;
    },
    async list(scope: DepartmentScope): Promise<Geofence[]> {
      return db.select().from(geofences).where(visible(scope)).orderBy(asc(geofences.name));
    },
    async all(): Promise<Geofence[]> {
      return db.select().from(geofences);
    },
    async findById(scope: DepartmentScope, id: string): Promise<Geofence | undefined> {
      const [row] = await db.select().from(geofences).where(and(eq(geofences.id, id), visible(scope)));
      return row;
    },
    /** Changes the given fields; undefined when the geofence is gone. */
    async update(id: string, changes: Partial<Pick<typeof geofences.$inferInsert, 'name' | 'geometry'>>): Promise<Geofence | undefined> {
      if (Object.keys(changes).length === 0) {
        const [row] = await db.select().from(geofences).where(eq(geofences.id, id));
        return row;
      }
      const [row] = await db.update(geofences).set(changes).where(eq(geofences.id, id)).returning();
      return row;
    },
    async remove(id: string): Promise<void> {
      await db.delete(geofences).where(eq(geofences.id, id));
    },
    async count(): Promise<number> {
      return (await db.select({ id: geofences.id }).from(geofences)).length;
    },
  };
}
export type GeofenceRepository = ReturnType<typeof geofenceRepository>;
