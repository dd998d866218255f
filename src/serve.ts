/**
 * Running the service as a command: signals, a graceful close and the exit code. Shared by
 * src/cli.ts (start, api, worker) and the demo's command line (demo/cli.ts), which adds
 * its seeding and simulator through `onStarted`.
 */
import closeWithGrace from 'close-with-grace';
import type { Logger } from 'pino';
import { PortInUseError } from './broker/embedded.js';
import { ConfigError, type Config } from './config.js';
import { DataDirLockedError } from './db/data-dir-lock.js';
import { MosquittoAuthUsageError } from './mosquitto/command.js';
import { startServices, type Roles, type Services } from './runtime.js';

/** Problems a user can fix: printed as one clear message, without a stack trace. */
export function isUserFacing(err: unknown): err is Error {
  return (
    err instanceof ConfigError ||
    err instanceof DataDirLockedError ||
    err instanceof PortInUseError ||
    err instanceof MosquittoAuthUsageError
  );
}

export function fail(err: unknown, logger?: Logger): never {
  if (isUserFacing(err)) {
    process.stderr.write(`armada: ${err.message}\n`);
    process.exit(2);
  }
  if (logger) logger.fatal({ err }, 'armada stopped');
  else process.stderr.write(`armada: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
}

/** What a command adds once the services run; the returned function is called on shutdown, first. */
export type OnStarted = (services: Services) => Promise<(() => Promise<void>) | void>;

export async function runService(config: Config, logger: Logger, roles: Roles, onStarted?: OnStarted): Promise<void> {
  let services: Services | undefined;
  let stopExtra: (() => Promise<void>) | void;
  const grace = closeWithGrace({ delay: 15_000 }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    else logger.info({ signal }, 'shutting down');
    await stopExtra?.();
    await services?.close();
  });

  services = await startServices(config, roles, { logger });
  if (onStarted) stopExtra = await onStarted(services);
  else if (services.httpUrl) logger.info({ url: services.httpUrl }, 'armada is listening');
  void grace;
}
