/**
 * The operations endpoints of a process without the API (`worker`): GET /metrics
 * (Prometheus), /healthz (the process is up) and /readyz (its broker session is
 * subscribed and the database answers). Plain node:http, so a worker still does not
 * load the HTTP stack; it listens only when METRICS_PORT is set.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface OpsServer {
  readonly url: string;
  close(): Promise<void>;
}

export interface OpsServerOptions {
  host: string;
  port: number;
  registry: Registry;
  /** Named checks, all of which must pass for /readyz to answer 200. */
  readiness: () => Promise<Record<string, boolean>>;
}

function send(res: import('node:http').ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
}

export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'application/json', JSON.stringify({ error: 'only GET' }));
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => send(res, 200, options.registry.contentType, text),
        (err: Error) => send(res, 500, 'application/json', JSON.stringify({ error: err.message })),
      );
      return;
    }
    if (path === '/healthz') return send(res, 200, 'application/json', JSON.stringify({ status: 'ok' }));
    if (path === '/readyz') {
      options.readiness().then(
        (checks) => {
          const ready = Object.values(checks).every(Boolean);
          send(res, ready ? 200 : 503, 'application/json', JSON.stringify({ status: ready ? 'ready' : 'not ready', checks }));
        },
        () => send(res, 503, 'application/json', JSON.stringify({ status: 'not ready' })),
      );
      return;
    }
    send(res, 404, 'application/json', JSON.stringify({ error: `no ${path} here: this process serves /metrics, /healthz and /readyz` }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
