/**
 * The OpenAPI document as a client generator reads it: valid by a third-party linter
 * (Redocly's recommended rules, no error and no warning), one unique operationId per
 * operation, and the answers every authenticated route can give documented.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createRepositories } from '../../src/repositories/index.js';
import { createServices } from '../../src/services.js';
import { projectRoot } from '../support/process.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../support/stores.js';

type Operation = { operationId?: string; responses: Record<string, unknown> };
let testDb: TestDatabase;
let app: FastifyInstance;
let doc: { paths: Record<string, Record<string, Operation>>; servers?: unknown[]; info: { license?: unknown } };

beforeAll(async () => {
  testDb = await createTestDatabase();
  const repos = createRepositories(testDb.database);
  app = await buildApp({ database: testDb.database, repos, services: createServices(repos), logger: silentLogger, now: () => new Date() });
  await app.ready();
  doc = app.swagger() as unknown as typeof doc;
});

afterAll(async () => {
  await app?.close();
  await testDb?.drop();
});

describe('the OpenAPI document', () => {
  it('lints clean with Redocly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'armada-openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(doc));
      const run = spawnSync(join(projectRoot, 'node_modules', '.bin', 'redocly'), ['lint', '--format=summary', file], { encoding: 'utf8' });
      const out = `${run.stdout}${run.stderr}`;
      expect(out).toMatch(/Your API description is valid/);
      expect(out).not.toMatch(/^(error|warning) /m);
      expect(run.status, out).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names every operation once, and documents 401 and 429 on the API, 403 where a role is needed', () => {
    const ids: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        expect(op.operationId, `${method} ${path}`).toBeTruthy();
        ids.push(op.operationId!);
        if (path.startsWith('/api/v1')) {
          expect(Object.keys(op.responses), `${method} ${path}`).toEqual(expect.arrayContaining(['401', '429']));
        }
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(Object.keys(doc.paths['/api/v1/departments']!.post!.responses)).toContain('403');
    expect(Object.keys(doc.paths['/api/v1/departments']!.get!.responses)).not.toContain('403');
    expect(doc.servers?.length).toBeGreaterThan(0);
    expect(doc.info.license).toBeTruthy();
  });
});
