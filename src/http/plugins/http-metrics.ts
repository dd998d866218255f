/**
 * HTTP request counts and latencies for /metrics, labelled by method, route pattern
 * (`/api/v1/vehicles/:id`, never the raw URL, so ids do not multiply the series) and
 * status code. Requests that matched no route share the route label `unmatched`.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';

const labelNames = ['method', 'route', 'status_code'] as const;

function metricsIn(registry: Registry) {
  const requests =
    (registry.getSingleMetric('armada_http_requests_total') as Counter<(typeof labelNames)[number]> | undefined) ??
    new Counter({
      name: 'armada_http_requests_total',
      help: 'HTTP requests answered, by method, route and status',
      labelNames,
      registers: [registry],
    });
  const duration =
    (registry.getSingleMetric('armada_http_request_duration_seconds') as Histogram<(typeof labelNames)[number]> | undefined) ??
    new Histogram({
      name: 'armada_http_request_duration_seconds',
      help: 'Time from receiving a request to sending its response, by method, route and status',
      labelNames,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  return { requests, duration };
}

export function registerHttpMetrics(app: FastifyInstance, registry: Registry | undefined): void {
  if (!registry) return;
  const { requests, duration } = metricsIn(registry);
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (route === '/metrics') return;
    const labels = { method: request.method, route, status_code: String(reply.statusCode) };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });
}
