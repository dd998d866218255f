/** API keys and their roles. */
import { pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt } from './columns.js';
import { departments } from './fleet.js';

/**
 * admin: everything. manager: its department's fleet, vouchers, read-only finance reports.
 * finance: the ledger, prices, stations, allocations, budgets, closing, reconciliation.
 * auditor: reads everything finance reads and writes nothing (the inspectorate). viewer: reads.
 */
export const apiKeyRoles = ['admin', 'manager', 'finance', 'auditor', 'viewer'] as const;

export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    role: text('role', { enum: apiKeyRoles }).notNull(),
    departmentId: uuid('department_id').references(() => departments.id),
    /** SHA-256 of the key: keys are 256-bit random, so a slow hash would add nothing. */
    keyHash: text('key_hash').notNull(),
    /** The first characters of the key, to tell keys apart in listings. */
    keyPrefix: text('key_prefix').notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    /** From this time on the key is refused like a revoked one; null: it does not expire. */
    expiresAt: timestamp('expires_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('api_keys_key_hash_key').on(t.keyHash)],
);
