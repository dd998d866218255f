/**
 * The analytics' SQL, one module per thing it reads and writes: readings for analysis
 * (readings.ts), the day rollups with their trips, stops and fuel events (days.ts over
 * rollups.ts, segments.ts and fuel-events.ts), the rollup job's bookkeeping (job.ts) and
 * the fleet report's sums (report-sums.ts). Raw SQL: these queries move many rows (a month
 * of 10-second readings is 259,200) and drizzle's row mapping would be the cost.
 */
import type { Database } from '../../db/client.js';
import { dayQueries } from './days.js';
import { jobQueries } from './job.js';
import { readingQueries } from './readings.js';
import { reportQueries } from './report-sums.js';

export type { StoredDays } from './days.js';
export type { RefreshCandidate, VehicleState } from './job.js';
export type { RollupSums } from './report-sums.js';
export type { RollupRow } from './rollups.js';

export function analyticsRepository(database: Database) {
  return {
    ...readingQueries(database),
    ...dayQueries(database),
    ...jobQueries(database),
    ...reportQueries(database),
  };
}
export type AnalyticsRepository = ReturnType<typeof analyticsRepository>;
