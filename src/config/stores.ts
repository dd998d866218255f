/** Where the data lives: PostgreSQL, or embedded PGlite in a data directory. */
import { z } from 'zod';
import { emptyAsUndefined } from './fields.js';

const postgresUrl = z
  .string()
  .url()
  .refine((u) => /^postgres(ql)?:\/\//.test(u), { message: 'must start with postgres:// or postgresql://' });

export const storesVariables = {
  DATABASE_URL: z.preprocess(emptyAsUndefined, postgresUrl.optional()).describe('PostgreSQL connection string (`postgres://…`)'),
  DATA_DIR: z.string().min(1).default('./data').describe("Where embedded data lives (PGlite, the demo's key)"),
};
