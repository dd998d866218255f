import { defineConfig } from 'drizzle-kit';

// Only `npm run db:generate` reads this: it diffs src/db/schema.ts (which exports the
// tables of src/db/schema/) against the snapshots in migrations/meta and writes the next
// SQL migration.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './migrations',
});
