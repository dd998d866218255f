// The API client: every request carries the key in the Authorization header; a key is
// never put in a URL (downloads are fetched and handed to the browser as a blob).
// The live feed's WebSocket cannot carry headers: the key goes as the subprotocol
// `bearer.<key>` beside `armada.v1` (live-feed.js), and only a key with characters a
// subprotocol cannot hold falls back to `?token=`.

import { t } from './i18n.js';

export class Unauthorized extends Error {}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The error as the page says it: the API's own message, or a short reason in the page's language. */
export function errorText(err) {
  if (err instanceof ApiError) return err.message || t('err.http', { status: err.status });
  if (err instanceof TypeError) return t('err.unreachable');
  return err?.message ?? String(err);
}

export function createApi(key, { onUnauthorized }) {
  async function request(method, path, body, contentType = 'application/json') {
    const headers = { authorization: `Bearer ${key}` };
    if (body !== undefined) headers['content-type'] = contentType;
    const text = body === undefined || typeof body === 'string' ? body : JSON.stringify(body);
    const res = await fetch(`/api/v1${path}`, { method, headers, body: text });
    if (res.status === 401) {
      onUnauthorized();
      throw new Unauthorized();
    }
    if (!res.ok) {
      const problem = await res.json().catch(() => null);
      throw new ApiError(res.status, problem?.error?.message ?? '');
    }
    return res;
  }
  return {
    key,
    get: async (path) => (await request('GET', path)).json(),
    post: async (path, body) => (await request('POST', path, body ?? {})).json(),
    put: async (path, body) => (await request('PUT', path, body)).json(),
    /** Posts a CSV text as it is (Content-Type: text/csv). */
    postCsv: async (path, text) => (await request('POST', path, text, 'text/csv')).json(),
    /** Fetches a file (CSV, XLSX) and saves it under the name the API gives, or `fallbackName`. */
    async download(path, fallbackName) {
      const res = await request('GET', path);
      const name = /filename="?([^";]+)"?/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName;
      const url = URL.createObjectURL(await res.blob());
      const a = Object.assign(document.createElement('a'), { href: url, download: name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      return name;
    },
    /** The live feed's address and subprotocols. */
    live() {
      const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/live`;
      // A subprotocol is an HTTP token: letters, digits and !#$%&'*+-.^_`|~
      if (/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(key)) return { url, protocols: ['armada.v1', `bearer.${key}`] };
      return { url: `${url}?token=${encodeURIComponent(key)}`, protocols: [] };
    },
  };
}

/** `?a=1&b=2` from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
