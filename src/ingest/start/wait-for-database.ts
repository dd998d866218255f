import type { Logger } from 'pino';
import type { Database } from '../../db/client.js';

/** Resolves once the database answers a trivial query, asking with growing pauses. */
export async function waitForDatabase(database: Pick<Database, 'ping'>, logger: Logger, maxPauseMs = 5000): Promise<void> {
  let pauseMs = 250;
  for (let attempt = 1; ; attempt++) {
    if (await database.ping()) {
      if (attempt > 1) logger.info({ attempts: attempt }, 'database answers again; resuming ingest');
      return;
    }
    if (attempt === 1) logger.warn('database does not answer; ingest waits, the broker keeps the messages');
    await new Promise((r) => setTimeout(r, pauseMs).unref());
    pauseMs = Math.min(pauseMs * 2, maxPauseMs);
  }
}
