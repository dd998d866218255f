/**
 * Keeps the Dockerfile and the armada service of docker-compose.yml honest without a
 * Docker engine: the health check one-liners run against a stub HTTP server, the
 * image's command starts the CLI the way the container does, the files it copies
 * exist, and everything src/ imports at run time survives `npm ci --omit=dev`.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { builtinModules } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const compose = YAML.parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'));

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(text: string): { op: string; args: string }[] {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => /^\s*([A-Z]+)\s+(.*?)\s*$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ op: m[1]!, args: m[2]! }));
}

/** The exec-form (JSON) command after CMD in a CMD or HEALTHCHECK instruction. */
function execForm(args: string): string[] {
  const json = /(?:^|\s)CMD\s+(\[.*\])$/.exec(args)?.[1] ?? (args.startsWith('[') ? args : undefined);
  if (json === undefined) throw new Error(`not an exec-form command: ${args}`);
  return JSON.parse(json) as string[];
}

type Run = { code: number; stdout: string; stderr: string };

function run(argv: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { cwd: ROOT, env: { ...process.env, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('container health checks', () => {
  let server: Server;
  let port: number;
  let status = 200;
  const paths: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.close();
  });

  async function outcomes(argv: string[], env: Record<string, string>): Promise<{ ok: number; down: number; paths: string[] }> {
    paths.length = 0;
    status = 200;
    const ok = (await run(argv, env)).code;
    status = 503;
    const down = (await run(argv, env)).code;
    return { ok, down, paths: [...paths] };
  }

  it("the Dockerfile's HEALTHCHECK asks /healthz on HTTP_PORT and fails on non-2xx", async () => {
    const healthcheck = instructions(dockerfile).find((i) => i.op === 'HEALTHCHECK');
    expect(healthcheck).toBeDefined();
    const argv = execForm(healthcheck!.args);
    expect(await outcomes(argv, { HTTP_PORT: String(port) })).toEqual({ ok: 0, down: 1, paths: ['/healthz', '/healthz'] });
  });

  it("docker-compose.yml's armada health check asks /readyz on port 3000 and fails on non-2xx", async () => {
    const test = compose.services.armada.healthcheck.test as string[];
    expect(test[0]).toBe('CMD');
    expect(compose.services.armada.environment.HTTP_PORT).toBe('3000');
    const script = test[3]!;
    expect(script).toContain('127.0.0.1:3000/');
    const argv = [...test.slice(1, 3), script.replace('127.0.0.1:3000/', `127.0.0.1:${port}/`)];
    expect(await outcomes(argv, {})).toEqual({ ok: 0, down: 1, paths: ['/readyz', '/readyz'] });
  });

  it('both fail when nothing listens', async () => {
    server.close();
    await once(server, 'close');
    const argv = execForm(instructions(dockerfile).find((i) => i.op === 'HEALTHCHECK')!.args);
    expect((await run(argv, { HTTP_PORT: String(port) })).code).toBe(1);
  });
});

describe('the image', () => {
  const steps = instructions(dockerfile);

  it('copies files that exist', () => {
    const copies = steps.filter((s) => s.op === 'COPY').map((s) => s.args.split(/\s+/).slice(0, -1));
    expect(copies.length).toBeGreaterThan(0);
    for (const sources of copies) for (const source of sources) expect(existsSync(join(ROOT, source)), source).toBe(true);
  });

  it('holds every folder the service reads at run time', () => {
    const sources = new Set(steps.filter((s) => s.op === 'COPY').flatMap((s) => s.args.split(/\s+/).slice(0, -1).map((a) => a.replace(/\/$/, ''))));
    // The code, the SQL it migrates with, the simulator the demo drives, and the map page.
    for (const folder of ['src', 'migrations', 'simulator', 'web']) expect(sources.has(folder), folder).toBe(true);
  });

  it('starts the CLI with node --import tsx (the image runs the command as PID 1)', async () => {
    const cmd = execForm(steps.filter((s) => s.op === 'CMD').at(-1)!.args);
    expect(cmd).toEqual(['node', '--import', 'tsx', 'src/cli.ts', 'start']);
    expect(compose.services.armada.command).toBeUndefined();
    // The same loader and entry, asked for its usage instead of starting.
    const help = await run([...cmd.slice(0, -1), '--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/\bstart\b/);
    expect(help.stdout).toMatch(/\bmigrate\b/);
    // compose's migrate service uses the npm script.
    expect(compose.services.migrate.command).toEqual(['npm', 'run', 'migrate']);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.migrate).toBeDefined();
  }, 30_000);

  it('needs at run time only packages that npm ci --omit=dev installs', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const runtime = new Set(Object.keys(pkg.dependencies));
    expect(runtime.has('tsx')).toBe(true); // the loader in CMD
    const builtins = new Set(builtinModules);
    const missing = new Set<string>();
    const files = ['src', 'simulator'].flatMap((d) => tsFiles(join(ROOT, d)));
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      // Value imports only: `import type` and `export type` vanish at run time.
      for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm)) {
        const specifier = m[1] ?? m[2]!;
        if (specifier.startsWith('.') || specifier.startsWith('node:') || builtins.has(specifier.split('/')[0]!)) continue;
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
        if (!runtime.has(name)) missing.add(`${name} (${file.slice(ROOT.length)})`);
      }
    }
    expect([...missing]).toEqual([]);
  });
});

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}
