/** The simulator's API client waits out a 429 or 503 as Retry-After asks, then sends the request again. */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, createApi, MAX_RETRIES, retryAfterSeconds } from '../../simulator/api.js';

let server: Server | undefined;

afterEach(async () => {
  const s = server;
  server = undefined;
  if (!s) return;
  s.closeAllConnections();
  await new Promise((resolve) => s.close(resolve));
});

/** A server answering each request with the next of `answers` (the last one repeats); records the bodies it got. */
async function serve(answers: Array<{ status: number; headers?: Record<string, string>; body?: unknown }>) {
  const bodies: string[] = [];
  let n = 0;
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push(body);
      const answer = answers[Math.min(n++, answers.length - 1)]!;
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.body ?? { error: { code: 'rate_limited', message: 'Too many requests' } }));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, bodies };
}

describe('simulator API client', () => {
  it('sends a request again after a 429 or 503, as often as it is asked, and returns the answer', async () => {
    const { url, bodies } = await serve([
      { status: 429, headers: { 'retry-after': '0' } },
      { status: 503, headers: { 'retry-after': new Date(Date.now() - 5000).toUTCString() } },
      { status: 201, body: { id: 'v1' } },
    ]);
    const waits: number[] = [];
    const api = createApi(url, 'k', { onRetry: ({ waitS }) => waits.push(waitS) });
    expect(await api<{ id: string }>('POST', '/vehicles', { plateNumber: 'SIM 1' })).toEqual({ id: 'v1' });
    expect(bodies).toEqual(Array(3).fill(JSON.stringify({ plateNumber: 'SIM 1' })));
    expect(waits).toEqual([0, 0]);
  });

  it('gives up after MAX_RETRIES with the API error', async () => {
    const { url, bodies } = await serve([{ status: 429, headers: { 'retry-after': '0' } }]);
    const error = await createApi(url, 'k')('GET', '/vehicles').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(429);
    expect(bodies).toHaveLength(MAX_RETRIES + 1);
  });

  it('does not retry other errors', async () => {
    const { url, bodies } = await serve([{ status: 409, body: { error: { code: 'conflict', message: 'exists' } } }]);
    await expect(createApi(url, 'k')('POST', '/vehicles', {})).rejects.toMatchObject({ status: 409 });
    expect(bodies).toHaveLength(1);
  });

  it('reads Retry-After as seconds or an HTTP date, within bounds', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterSeconds('7', now)).toBe(7);
    expect(retryAfterSeconds(new Date(now + 30_000).toUTCString(), now)).toBe(30);
    expect(retryAfterSeconds(new Date(now - 30_000).toUTCString(), now)).toBe(0);
    expect(retryAfterSeconds(null, now)).toBe(1);
    expect(retryAfterSeconds('soon', now)).toBe(1);
    expect(retryAfterSeconds('100000', now)).toBe(120);
  });
});
