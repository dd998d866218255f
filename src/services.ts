/**
 * The services: what the API and the jobs compute over the repositories. Built once in
 * the composition root (src/runtime.ts) and passed to whoever needs them; a repository
 * never builds a service. A new service is added here.
 */
import { createAnalytics } from './analytics/service.js';
import { DEFAULT_ANALYTICS_SETTINGS, type AnalyticsSettings } from './analytics/settings.js';
import type { Repositories } from './repositories/index.js';

export interface ServiceSettings {
  analytics: AnalyticsSettings;
}

export function createServices(repos: Repositories, settings: ServiceSettings = { analytics: DEFAULT_ANALYTICS_SETTINGS }) {
  return {
    /** Trips, stops, fuel and the fleet report (src/analytics/service.ts). */
    analytics: createAnalytics(repos.analytics, settings.analytics),
  };
}
export type DomainServices = ReturnType<typeof createServices>;
