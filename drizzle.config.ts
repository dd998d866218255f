import { defineConfig } from 'drizzle-kit';

// Only `npm run db:generate` reads this: it diffs src/db/schema.ts against the
// snapshots in migrations/meta and writes the next SQL migration.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './migrations',
});
