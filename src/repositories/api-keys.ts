import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { apiKeys, auditLog } from '../db/schema.js';
import type { DepartmentScope } from './scope.js';

export type ApiKey = typeof apiKeys.$inferSelect;
export type ApiKeyRole = ApiKey['role'];

function inScope(scope: DepartmentScope) {
  return scope.departmentId ? eq(apiKeys.departmentId, scope.departmentId) : undefined;
}

/** Who issues or revokes a key, for the audit log (written in the same transaction). */
export interface KeyAudit {
  actor: { keyId: string | null; keyName: string | null };
  at: Date;
}

const keyAuditView = (k: ApiKey) => ({
  name: k.name,
  role: k.role,
  departmentId: k.departmentId,
  keyPrefix: k.keyPrefix,
  revokedAt: k.revokedAt,
});

export function apiKeyRepository(db: Db) {
  return {
    async create(
      input: { name: string; role: ApiKeyRole; departmentId: string | null; keyHash: string; keyPrefix: string },
      audit?: KeyAudit,
    ): Promise<ApiKey> {
      return db.transaction(async (tx) => {
        const [row] = await tx.insert(apiKeys).values(input).returning();
        if (audit) {
          await tx.insert(auditLog).values({
            at: audit.at,
            keyId: audit.actor.keyId,
            keyName: audit.actor.keyName,
            action: 'api_key.create',
            entity: 'api_key',
            entityId: row!.id,
            departmentId: row!.departmentId,
            before: null,
            after: keyAuditView(row!),
          });
        }
        return row!;
      });
    },
    /** The active key with this hash. */
    async findActiveByHash(keyHash: string): Promise<ApiKey | undefined> {
      const [row] = await db
        .select()
        .from(apiKeys)
        .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)));
      return row;
    },
    /** The keys the scope may see (a department-limited scope: its department's keys), oldest first. */
    async list(scope: DepartmentScope): Promise<ApiKey[]> {
      return db.select().from(apiKeys).where(inScope(scope)).orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
    },
    /** The key, if it exists and the scope may see it. */
    async findById(scope: DepartmentScope, id: string): Promise<ApiKey | undefined> {
      const [row] = await db
        .select()
        .from(apiKeys)
        .where(and(eq(apiKeys.id, id), inScope(scope)));
      return row;
    },
    /**
     * Revokes the key at `at` unless it is already revoked, and unless it is the last
     * active admin key without a department (then nobody could manage keys any more).
     * The active unscoped admin keys are locked first, so two concurrent revocations of
     * the last two cannot both pass the check.
     */
    async revoke(
      id: string,
      at: Date,
      audit?: KeyAudit,
    ): Promise<{ key: ApiKey | undefined; outcome: 'revoked' | 'already_revoked' | 'last_admin' | 'not_found' }> {
      return db.transaction(async (tx) => {
        const admins = await tx
          .select({ id: apiKeys.id })
          .from(apiKeys)
          .where(and(eq(apiKeys.role, 'admin'), isNull(apiKeys.departmentId), isNull(apiKeys.revokedAt)))
          .for('update');
        const [existing] = await tx.select().from(apiKeys).where(eq(apiKeys.id, id));
        if (!existing) return { key: undefined, outcome: 'not_found' as const };
        if (existing.revokedAt) return { key: existing, outcome: 'already_revoked' as const };
        if (admins.length === 1 && admins[0]!.id === id) return { key: existing, outcome: 'last_admin' as const };
        const [row] = await tx.update(apiKeys).set({ revokedAt: at }).where(eq(apiKeys.id, id)).returning();
        if (audit) {
          await tx.insert(auditLog).values({
            at: audit.at,
            keyId: audit.actor.keyId,
            keyName: audit.actor.keyName,
            action: 'api_key.revoke',
            entity: 'api_key',
            entityId: id,
            departmentId: row!.departmentId,
            before: keyAuditView(existing),
            after: keyAuditView(row!),
          });
        }
        return { key: row!, outcome: 'revoked' as const };
      });
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
