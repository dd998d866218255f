/**
 * Keeps the scaled-out layouts honest without a Docker engine: docker-compose.prod.yml
 * (Mosquitto) and docker-compose.emqx.yml (an EMQX cluster) are parsed and held to the
 * operator's rules (a health check and a restart policy everywhere, only 80/443/1883/8883
 * published, secrets without defaults, workers that split the devices exactly, every
 * worker and API instance scraped by Prometheus and every API instance behind the proxy);
 * each service's environment passes Armada's own configuration check; the configs run
 * in the real tools where this machine has them (`caddy`, `promtool`): Caddy serves
 * deploy/caddy/Caddyfile.prod with only its addresses moved, and WebSockets pass through
 * it to every API instance. The Grafana dashboard may query only metrics that the
 * service's /metrics really serves (or the named exporters), so it cannot rot silently.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import YAML from 'yaml';
import { loadConfig } from '../../src/config.js';
import { canConnect } from '../../bench/mosquitto.js';
import { freePort } from '../support/process.js';
import { startTestService, type TestService } from '../support/service.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const hasCaddy = spawnSync('caddy', ['version']).status === 0;
const hasPromtool = spawnSync('promtool', ['--version']).status === 0;
if (!hasCaddy || !hasPromtool) console.warn('Some compose config checks are skipped: apt-get install caddy prometheus (for promtool).');

type Service = {
  image?: string;
  build?: unknown;
  command?: string[];
  restart?: string;
  ports?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
};
type Compose = { services: Record<string, Service> };

/** Compose files use anchors and merge keys (`<<: *armada`), as Docker Compose does. */
function parseCompose(file: string): Compose {
  return YAML.parse(read(file), { merge: true }) as Compose;
}

const LAYOUTS = [
  { file: 'docker-compose.prod.yml', brokers: ['mosquitto'], prometheus: 'deploy/prometheus/prometheus.yml' },
  { file: 'docker-compose.emqx.yml', brokers: ['emqx1', 'emqx2', 'emqx3'], prometheus: 'deploy/prometheus/prometheus.emqx.yml' },
] as const;

const SECRETS = ['POSTGRES_PASSWORD', 'MQTT_ARMADA_PASSWORD', 'ADMIN_API_KEY', 'GRAFANA_ADMIN_PASSWORD', 'EMQX_COOKIE'];

/** `${NAME:?…}` → value, `${NAME:-default}` → default: what compose does with the secrets set. */
function substitute(value: string, secrets: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([?-])([^}]*))?\}/g, (_m, name: string, op?: string, rest?: string) => {
    if (name in secrets) return secrets[name]!;
    if (op === '-') return rest ?? '';
    throw new Error(`\${${name}} has no value here`);
  });
}

const role = (s: Service) => s.command?.at(-1);
const armadaServices = (c: Compose) => Object.entries(c.services).filter(([, s]) => s.image === 'armada:local' && s.restart !== 'no');

function prometheusTargets(file: string): Record<string, string[]> {
  const conf = YAML.parse(read(file)) as { scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }> };
  return Object.fromEntries(conf.scrape_configs.map((j) => [j.job_name, j.static_configs.flatMap((s) => s.targets)]));
}

describe.each(LAYOUTS)('$file', ({ file, brokers, prometheus }) => {
  const compose = parseCompose(file);
  const services = Object.entries(compose.services);
  const workers = armadaServices(compose).filter(([, s]) => role(s) === 'worker');
  const apis = armadaServices(compose).filter(([, s]) => role(s) === 'api');

  it('has several workers and API instances, every long-running service with a health check and a restart policy', () => {
    expect(workers.length).toBeGreaterThanOrEqual(2);
    expect(apis.length).toBeGreaterThanOrEqual(2);
    for (const [name, s] of services) {
      expect({ name, restart: s.restart }).toEqual({ name, restart: expect.stringMatching(/^(unless-stopped|always|no)$/) });
      if (s.restart === 'no') {
        // One-shots (migrate): whoever needs them waits for their success.
        const dependents = services.filter(([, d]) => d.depends_on?.[name]);
        expect(dependents.length).toBeGreaterThan(0);
        for (const [, d] of dependents) expect(d.depends_on![name]!.condition).toBe('service_completed_successfully');
        continue;
      }
      expect({ name, healthcheck: s.healthcheck?.test?.length ?? 0 }).toEqual({ name, healthcheck: expect.any(Number) });
      expect(s.healthcheck!.test.length).toBeGreaterThan(1);
    }
  });

  it('publishes only 80/443 (the proxy) and 1883/8883 (the broker)', () => {
    const published = services.flatMap(([name, s]) => (s.ports ?? []).map((p) => `${name}:${String(p).split(':').at(-1)}`));
    expect(published.sort()).toEqual([`${brokers[0]}:1883`, `${brokers[0]}:8883`, 'proxy:443', 'proxy:80'].sort());
  });

  it('requires every secret (no default) and writes none into the file', () => {
    const text = read(file);
    for (const m of text.matchAll(/\$\{(\w+)(:?[?-])?/g)) {
      if (SECRETS.includes(m[1]!)) expect({ secret: m[1], op: m[2] }).toEqual({ secret: m[1], op: ':?' });
    }
    for (const secret of SECRETS.filter((s) => s !== 'EMQX_COOKIE' || file.includes('emqx'))) expect(text).toContain(`\${${secret}:?`);
    // The Mosquitto layout has no cookie; the EMQX one has no Mosquitto passwords.
    for (const [, s] of services) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (/PASSWORD|_KEY|SECRET|COOKIE|_PASS$/.test(key))
          expect({ key, value }).toEqual({ key, value: expect.stringMatching(/^\$\{\w+:\?/) });
      }
    }
  });

  it('gives each service an environment that Armada accepts, the workers an exact split of the devices or one shared group', () => {
    const secrets = Object.fromEntries(SECRETS.map((s) => [s, `secret-${s.toLowerCase()}-0123456789abcdef`]));
    const env = (s: Service) =>
      Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, substitute(String(v), secrets)]));
    const configs = workers.map(([, s]) => loadConfig(env(s)));
    if (file.includes('emqx')) {
      // EMQX: every worker in the same shared subscription group, EMQX spreading the devices.
      expect(configs.map((c) => [c.ingestSubscriptions, c.ingestShareGroup, c.workerCount])).toEqual(
        workers.map(() => ['shared', 'armada-ingest', 1]),
      );
    } else {
      expect(new Set(configs.map((c) => c.workerCount))).toEqual(new Set([workers.length]));
      expect(configs.map((c) => c.workerIndex).sort()).toEqual(workers.map((_, i) => i));
    }
    expect(new Set(configs.map((c) => c.workerId)).size).toBe(workers.length);
    for (const c of configs) expect(c.metricsPort).toBeDefined();
    for (const [, s] of apis) {
      const c = loadConfig(env(s));
      expect(c.httpHost).toBe('0.0.0.0');
    }
    // Every Armada process talks to a broker's service listener, never to a device listener.
    for (const [, s] of [...workers, ...apis]) {
      const url = new URL(env(s).MQTT_URL!);
      expect({ user: url.username, port: url.port, host: brokers.includes(url.hostname as never) }).toEqual({
        user: 'armada',
        port: '1884',
        host: true,
      });
    }
    // One instance creates the first admin key (two racing to create it would be one too many).
    expect(apis.filter(([, s]) => s.environment?.ADMIN_API_KEY).length).toBe(1);
  });

  it('has Prometheus scrape every worker, every API instance and the database exporter', () => {
    const targets = prometheusTargets(prometheus);
    expect(targets['armada-worker']?.sort()).toEqual(workers.map(([name, s]) => `${name}:${s.environment!.METRICS_PORT}`).sort());
    expect(targets['armada-api']?.sort()).toEqual(apis.map(([name, s]) => `${name}:${s.environment!.HTTP_PORT}`).sort());
    expect(targets.postgres).toEqual(['postgres-exporter:9187']);
    if (file.includes('emqx')) expect(targets.emqx?.map((t) => t.split(':')[0]).sort()).toEqual([...brokers]);
    const mount = compose.services.prometheus!.volumes!.find((v) => v.includes('/etc/prometheus/prometheus.yml'))!;
    expect(mount.split(':')[0]).toBe(`./${prometheus}`);
  });

  it.skipIf(!hasPromtool)('has a Prometheus config that promtool accepts', () => {
    const out = spawnSync('promtool', ['check', 'config', join(ROOT, prometheus)], { encoding: 'utf8' });
    expect({ status: out.status, out: out.stdout + out.stderr }).toEqual({ status: 0, out: expect.stringContaining('SUCCESS') });
  });

  it('mounts only files that are in the repository or that the operator creates as documented', () => {
    const operatorMade = [
      './deploy/mosquitto/passwd',
      './deploy/mosquitto/service-passwd',
      './deploy/certs',
      './deploy/emqx/service-users.csv',
      './deploy/emqx/devices.csv',
    ];
    for (const [, s] of services) {
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0]!;
        if (!source.startsWith('.')) continue; // a named volume
        if (operatorMade.includes(source)) expect(read(file)).toContain(source.replace('./', ''));
        else expect({ source, exists: existsSync(resolve(ROOT, source)) }).toEqual({ source, exists: true });
      }
    }
  });

  it('routes the proxy to every API instance (Caddyfile.prod)', () => {
    const mount = compose.services.proxy!.volumes!.find((v) => v.endsWith(':/etc/caddy/Caddyfile:ro'))!;
    const caddyfile = read(mount.split(':')[0]!);
    const upstreams = /reverse_proxy\s+((?:[\w.-]+:\d+\s*)+)\{/.exec(caddyfile)![1]!.trim().split(/\s+/);
    expect(upstreams.sort()).toEqual(apis.map(([name, s]) => `${name}:${s.environment!.HTTP_PORT}`).sort());
  });
});

describe('the workers and API health checks of docker-compose.prod.yml', () => {
  let server: Server;
  let port: number;
  let status = 200;
  const paths: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(status).end('{}');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => server.close());

  const run = (argv: string[]) =>
    new Promise<number>((done) => execFile(argv[0]!, argv.slice(1), { timeout: 20_000 }, (err) => done(err ? Number(err.code ?? -1) : 0)));

  it('asks /readyz on the port each process serves and fails on non-2xx', async () => {
    const compose = parseCompose('docker-compose.prod.yml');
    for (const [name, s] of armadaServices(compose)) {
      const test = s.healthcheck!.test;
      expect(test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
      const servicePort = role(s) === 'worker' ? s.environment!.METRICS_PORT : s.environment!.HTTP_PORT;
      expect({ name, script: test[3] }).toEqual({ name, script: expect.stringContaining(`127.0.0.1:${servicePort}/readyz`) });
      const argv = ['node', '-e', test[3]!.replace(`127.0.0.1:${servicePort}/`, `127.0.0.1:${port}/`)];
      paths.length = 0;
      status = 200;
      const ok = await run(argv);
      status = 503;
      const down = await run(argv);
      expect({ name, ok, down, paths }).toEqual({ name, ok: 0, down: 1, paths: ['/readyz', '/readyz'] });
    }
  });
});

describe('deploy/emqx', () => {
  // HOCON, written in its JSON subset, so that it parses here as it does in EMQX.
  const emqx = JSON.parse(read('deploy/emqx/emqx.conf'));
  const mosquittoConf = read('deploy/mosquitto/mosquitto.conf');
  const directive = (key: string) => new RegExp(`^${key}\\s+(\\S+)`, 'm').exec(mosquittoConf)?.[1];

  it('clusters exactly the nodes of docker-compose.emqx.yml', () => {
    const compose = parseCompose('docker-compose.emqx.yml');
    const nodes = Object.entries(compose.services)
      .filter(([, s]) => s.image?.startsWith('emqx/'))
      .map(([, s]) => s.environment!.EMQX_NODE__NAME);
    expect(emqx.cluster.discovery_strategy).toBe('static');
    expect([...emqx.cluster.static.seeds].sort()).toEqual([...nodes].sort());
    expect(nodes.length).toBeGreaterThanOrEqual(2);
  });

  it('keeps the broker settings of deploy/mosquitto: packet size, in-flight window, queue, session expiry', () => {
    expect(emqx.mqtt.max_packet_size).toBe(directive('max_packet_size'));
    expect(emqx.mqtt.max_inflight).toBe(Number(directive('max_inflight_messages')));
    expect(emqx.mqtt.max_mqueue_len).toBe(Number(directive('max_queued_messages')));
    expect(emqx.mqtt.session_expiry_interval).toBe(directive('persistent_client_expiration'));
  });

  it('has device listeners that force client id = user name and a service listener with its own users', () => {
    expect(emqx.zones.devices.mqtt.use_username_as_clientid).toBe(true);
    expect(emqx.listeners.tcp.default).toMatchObject({ bind: '0.0.0.0:1883', zone: 'devices' });
    expect(emqx.listeners.ssl.default).toMatchObject({ bind: '0.0.0.0:8883', zone: 'devices' });
    expect(emqx.listeners.tcp.service.bind).toBe('0.0.0.0:1884');
    expect(emqx.listeners.tcp.service.zone).not.toBe('devices');
    const serviceUsers = emqx.listeners.tcp.service.authentication[0].bootstrap_file;
    const deviceUsers = emqx.authentication[0].bootstrap_file;
    expect(serviceUsers).not.toBe(deviceUsers);
    // Armada stores device secrets as PBKDF2-SHA512 with 101 iterations (src/security/secrets.ts).
    expect(emqx.authentication[0].password_hash_algorithm).toEqual({ name: 'pbkdf2', mac_fun: 'sha512', iterations: 101, dk_length: 64 });
    expect(emqx.authorization.no_match).toBe('deny');
  });

  it('has an ACL file of Erlang terms granting what deploy/mosquitto/acl grants', () => {
    const acl = read('deploy/emqx/acl.conf');
    const rules = acl
      .split('\n')
      .filter((l) => l.trim() && !l.trim().startsWith('%%'))
      .join(' ')
      .split(/\}\.\s*/)
      .filter((r) => r.trim());
    for (const r of rules) expect(r.trim()).toMatch(/^\{(allow|deny), /);
    expect(rules.at(-1)!.trim()).toBe('{deny, all');
    for (const topic of [
      'fleet/v1/devices/+/telemetry',
      'owntracks/#',
      'fleet/v1/live/#',
      `fleet/v1/devices/\${username}/telemetry`,
      `owntracks/\${username}/#`,
    ])
      expect(acl).toContain(`"${topic}"`);
  });
});

describe('deploy/grafana', () => {
  const dashboard = JSON.parse(read('deploy/grafana/dashboards/armada.json')) as {
    panels: Array<{ title: string; datasource?: { uid: string }; targets?: Array<{ expr: string; datasource?: { uid: string } }> }>;
  };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr, uid: t.datasource?.uid })));
  /** Metric names in PromQL: identifiers that are neither functions, keywords nor label names. */
  const metricNames = (expr: string) =>
    [...expr.replace(/\{[^}]*\}/g, '').matchAll(/\b([a-z_][a-z0-9_]*)\b(?!\s*\()/g)]
      .map((m) => m[1]!)
      .filter((n) => /^(armada|pg)_/.test(n) || n === 'up');
  /** Metrics from outside Armada, and who serves them. */
  const EXTERNAL: Record<string, string> = {
    pg_database_size_bytes: 'postgres_exporter (deploy/prometheus: job postgres)',
    up: 'Prometheus itself, for every target',
  };

  let service: TestService;
  let served: Set<string>;
  beforeAll(async () => {
    // API and worker in one process: every armada_ metric a worker or an API instance serves.
    service = await startTestService();
    const text = await (await service.api('/metrics')).text();
    served = new Set([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]!));
  });
  afterAll(async () => service?.close());

  it('has panels for ingest rate, lag, quarantine, live clients, request latency and database size', () => {
    const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join(' | ');
    for (const word of ['ingest rate', 'lag', 'quarantine', 'live clients', 'request latency', 'database size'])
      expect(titles).toContain(word);
  });

  it('queries only metrics that /metrics serves (or a named exporter)', () => {
    const unknown: string[] = [];
    const names = new Set<string>();
    for (const { panel, expr } of exprs) {
      for (const name of metricNames(expr)) {
        names.add(name);
        const base = name.replace(/_(bucket|sum|count)$/, '');
        if (!served.has(name) && !served.has(base) && !(name in EXTERNAL)) unknown.push(`${panel}: ${name}`);
      }
    }
    expect(unknown).toEqual([]);
    // The check sees the dashboard's metrics at all.
    expect(names.size).toBeGreaterThan(10);
    expect([...names].filter((n) => n.startsWith('armada_')).length).toBeGreaterThan(10);
  });

  it('uses the provisioned data source, from the folder compose mounts', () => {
    const source = YAML.parse(read('deploy/grafana/provisioning/datasources/prometheus.yml')).datasources[0];
    for (const { uid } of exprs) expect(uid).toBe(source.uid);
    expect(source.url).toBe('http://prometheus:9090');
    const provider = YAML.parse(read('deploy/grafana/provisioning/dashboards/armada.yml')).providers[0];
    const grafana = parseCompose('docker-compose.prod.yml').services.grafana!;
    expect(grafana.volumes).toContain(`./deploy/grafana/dashboards:${provider.options.path}:ro`);
    expect(readdirSync(join(ROOT, 'deploy/grafana/dashboards')).filter((f) => f.endsWith('.json'))).toEqual(['armada.json']);
  });
});

/** An API instance stand-in: answers /readyz and takes WebSockets, saying who it is. */
async function upstream(name: string): Promise<{ port: number; server: Server; sockets: number }> {
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/readyz' ? 200 : 200, { 'content-type': 'text/plain' }).end(`${name} ${req.url}`);
  });
  const wss = new WebSocketServer({ server });
  const state = { port: 0, server, sockets: 0 };
  wss.on('connection', (ws) => {
    state.sockets++;
    ws.send(`hello from ${name}`);
    ws.on('message', (m) => ws.send(`${name} echo ${m.toString()}`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  state.port = (server.address() as AddressInfo).port;
  return state;
}

describe.skipIf(!hasCaddy)('deploy/caddy/Caddyfile.prod in the real Caddy', () => {
  let caddy: ChildProcess;
  let log = '';
  let dir: string;
  let port: number;
  const ups: Array<Awaited<ReturnType<typeof upstream>>> = [];

  beforeAll(async () => {
    ups.push(await upstream('api-1'), await upstream('api-2'));
    const grafana = await upstream('grafana');
    ups.push(grafana);
    port = await freePort();
    const healthPort = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'armada-caddy-'));
    // Only addresses change: the site moves to plain HTTP on a free port (no certificate
    // authority of Caddy's own on this machine), upstream names to the stand-ins, and the
    // admin endpoint off (other tests may run Caddy too).
    const text = read('deploy/caddy/Caddyfile.prod');
    expect(text).toMatch(/^\{\$ARMADA_DOMAIN:localhost\} \{$/m);
    expect(text).toMatch(/^\ttls \{\$ARMADA_TLS:internal\}$/m);
    const rewritten = `{\n\tadmin off\n}\n${text
      .replace(/^\{\$ARMADA_DOMAIN:localhost\} \{$/m, `http://127.0.0.1:${port} {`)
      .replace(/^\ttls .*$/m, '')
      .replace('api-1:3000', `127.0.0.1:${ups[0]!.port}`)
      .replace('api-2:3000', `127.0.0.1:${ups[1]!.port}`)
      .replace('grafana:3000', `127.0.0.1:${grafana.port}`)
      .replace('http://:8081', `http://:${healthPort}`)}`;
    expect(rewritten).not.toMatch(/api-\d:|grafana:3000/);
    writeFileSync(join(dir, 'Caddyfile'), rewritten);
    caddy = spawn('caddy', ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], {
      env: { PATH: process.env.PATH ?? '', HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    caddy.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    caddy.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    for (const deadline = Date.now() + 20_000; !(await canConnect(port)); await sleep(50)) {
      if (caddy.exitCode !== null) throw new Error(`caddy exited:\n${log}`);
      if (Date.now() > deadline) throw new Error(`caddy did not listen:\n${log}`);
    }
  });

  afterAll(async () => {
    if (caddy && caddy.exitCode === null) {
      const exited = once(caddy, 'exit');
      caddy.kill('SIGTERM');
      await exited;
    }
    for (const u of ups) u.server.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('carries WebSockets to every API instance, balancing them by open connections', async () => {
    const sockets: WebSocket[] = [];
    const greetings: string[] = [];
    for (let i = 0; i < 4; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/live`);
      const greeting = once(ws, 'message');
      await once(ws, 'open');
      greetings.push(String((await greeting)[0]));
      sockets.push(ws);
    }
    // least_conn: each new connection goes to the instance holding fewer.
    expect(greetings.sort()).toEqual(['hello from api-1', 'hello from api-1', 'hello from api-2', 'hello from api-2']);
    // Messages flow both ways through the upgraded connection.
    const reply = once(sockets[0]!, 'message');
    sockets[0]!.send('ping');
    expect(String((await reply)[0])).toMatch(/^api-\d echo ping$/);
    for (const ws of sockets) ws.terminate();
  });

  it('forwards plain requests, keeps /metrics inside, and serves Grafana under /grafana/', async () => {
    const api = await fetch(`http://127.0.0.1:${port}/api/v1/vehicles`);
    expect(await api.text()).toMatch(/^api-\d \/api\/v1\/vehicles$/);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
    expect(await (await fetch(`http://127.0.0.1:${port}/grafana/api/health`)).text()).toBe('grafana /grafana/api/health');
  });
});
