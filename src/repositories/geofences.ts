import { and, asc, eq, isNull, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { geofences } from '../db/schema.js';
import type { DepartmentScope } from './scope.js';

export type Geofence = typeof geofences.$inferSelect;

export function geofenceRepository(db: Db) {
  /** A department's key sees its own geofences and the city-wide ones. */
  const visible = (scope: DepartmentScope) =>
    scope.departmentId ? or(isNull(geofences.departmentId), eq(geofences.departmentId, scope.departmentId)) : undefined;
  return {
    async create(input: Omit<typeof geofences.$inferInsert, 'id' | 'createdAt'>): Promise<Geofence> {
      const [row] = await db.insert(geofences).values(input).returning();
      return row!;
    },
    /**
     * Adds the geofence unless its department (or the city-wide set, for none) has `max`
     * already: 'full' then. Creations for one department take turns (a transaction-scoped
     * advisory lock), so two at once cannot both pass the count.
     */
    async createWithin(input: Omit<typeof geofences.$inferInsert, 'id' | 'createdAt'>, max: number): Promise<Geofence | 'full'> {
      return db.transaction(async (tx) => {
        const departmentId = input.departmentId ?? null;
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`armada.geofences:${departmentId ?? 'city-wide'}`}))`);
        const [count] = await tx
          .select({ n: sql<number>`count(*)::int` })
          .from(geofences)
          .where(departmentId ? eq(geofences.departmentId, departmentId) : isNull(geofences.departmentId));
        if ((count?.n ?? 0) >= max) return 'full' as const;
        const [row] = await tx.insert(geofences).values(input).returning();
        return row!;
      });
    },
    /** The geofences the scope sees, by name (then id, so pages do not overlap), a page at a time. */
    async list(scope: DepartmentScope, page: { limit: number; offset: number } = { limit: 1000, offset: 0 }): Promise<Geofence[]> {
      return db
        .select()
        .from(geofences)
        .where(visible(scope))
        .orderBy(asc(geofences.name), asc(geofences.id))
        .limit(page.limit)
        .offset(page.offset);
    },
    async all(): Promise<Geofence[]> {
      return db.select().from(geofences);
    },
    async findById(scope: DepartmentScope, id: string): Promise<Geofence | undefined> {
      const [row] = await db
        .select()
        .from(geofences)
        .where(and(eq(geofences.id, id), visible(scope)));
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
