/**
 * The database schema: the single source of truth for tables and indexes, one module per
 * area in src/db/schema/ and all of it exported from here (drizzle.config.ts and the
 * database client read this file). `npm run db:generate` turns changes into a new SQL
 * migration in migrations/.
 */
export * from './schema/alerts.js';
export * from './schema/analytics.js';
export * from './schema/api-keys.js';
export * from './schema/finance.js';
export * from './schema/fleet.js';
export * from './schema/telemetry.js';
