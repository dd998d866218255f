import { eq, and, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { apiKeys } from '../db/schema.js';

export type ApiKey = typeof apiKeys.$inferSelect;
export type ApiKeyRole = ApiKey['role'];

export function apiKeyRepository(db: Db) {
  return {
    async create(input: { name: string; role: ApiKeyRole; departmentId: string | null; keyHash: string; keyPrefix: string }): Promise<ApiKey> {
      const [row] = await db.insert(apiKeys).values(input).returning();
      return row!;
    },
    /** The active key with this hash. */
    async findActiveByHash(keyHash: string): Promise<ApiKey | undefined> {
      const [row] = await db
        .select()
        .from(apiKeys)
        .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)));
      return row;
    },
    async touch(id: string, at: Date): Promise<void> {
      await db.update(apiKeys).set({ lastUsedAt: at }).where(eq(apiKeys.id, id));
    },
    async countActiveAdmins(): Promise<number> {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(apiKeys)
        .where(and(eq(apiKeys.role, 'admin'), isNull(apiKeys.revokedAt)));
      return row?.n ?? 0;
    },
  };
}
export type ApiKeyRepository = ReturnType<typeof apiKeyRepository>;
