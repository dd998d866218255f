/** The alert engine beside the worker: it judges committed readings and reports silent devices. */
import { createAlertEngine, type AlertEngine } from '../../alerts/engine.js';
import type { IngestDeps } from './deps.js';

export function alertEngine(deps: IngestDeps, publish: (topic: string, payload: string) => void): AlertEngine {
  const { config } = deps;
  return createAlertEngine({
    repos: deps.repos,
    rules: {
      reportTz: config.reportTz,
      speedLimitKmh: config.speedLimitKmh,
      workingHours: config.analytics.workingHours,
      lowBatteryV: config.lowBatteryV,
    },
    publish,
    logger: deps.logger.child({ component: 'alerts' }),
    silentAfterS: config.deviceSilentAfterS,
    ...(deps.now ? { now: () => deps.now!().getTime() } : {}),
  });
}
