/**
 * The live map in a real browser (Debian's Chromium through playwright-core): the key
 * form, markers and the side panel from the snapshot, a position published over MQTT
 * moving its marker, a wrong key, a department-limited key, and the alerts panel (a
 * speeding alert pushed over the live feed, acknowledged by an admin, refused to a
 * viewer). The browser may reach only the test server: map tiles and everything else
 * are refused, so the map is grey.
 * Skipped when /usr/bin/chromium is missing (`apt-get install -y chromium`).
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page, type WebSocketRoute } from 'playwright-core';
import { telemetryTopic } from '../../src/domain/topics.js';
import { connectDevice, registerVehicleWithDevice, startTestService, waitFor, type TestService } from '../support/service.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const SCREENSHOT = '/tmp/armada-map.png';

type Device = Awaited<ReturnType<typeof registerVehicleWithDevice>>;

let t: TestService;
let browser: Browser;
let base: string;
let a: Device;
let b: Device;
const plateA = 'DH 1001 WA';
const plateB = 'DH 2002 WB';
const contexts: BrowserContext[] = [];
/** Tile requests the page made (and the test refused): the Content-Security-Policy lets them through. */
let tileRequests = 0;

async function publish(d: Device, fix: { lat: number; lon: number; speedKmh: number; headingDeg?: number; ignition: boolean; fuelLitres?: number }, ageMs = 0) {
  const client = await connectDevice(t.deviceMqttUrl, d.deviceId, d.secret);
  const ts = new Date(Date.now() - ageMs).toISOString();
  await client.publishAsync(telemetryTopic(d.deviceId), JSON.stringify({ ts, ...fix }), { qos: 1 });
  await client.endAsync();
  return ts;
}

/** Several readings in one message, `ts` in milliseconds from now. */
async function publishReadings(d: Device, readings: Array<{ ageMs: number; lat: number; lon: number; speedKmh: number; ignition: boolean }>) {
  const client = await connectDevice(t.deviceMqttUrl, d.deviceId, d.secret);
  const now = Date.now();
  const payload = readings.map(({ ageMs, ...r }) => ({ ts: new Date(now - ageMs).toISOString(), ...r }));
  await client.publishAsync(telemetryTopic(d.deviceId), JSON.stringify(payload), { qos: 1 });
  await client.endAsync();
}

type Alert = { id: number; kind: string; vehicleId: string; at: string; message: string; acknowledgedAt: string | null; acknowledgedNote: string | null };
const alertsOf = async (vehicleId: string) => ((await (await t.api(`/api/v1/alerts?vehicleId=${vehicleId}`)).json()) as Alert[]).filter((x) => x.kind === 'speeding');

/** A fresh browser profile that may reach the test server and nothing else. */
async function openPage(path: string, beforeLoad?: (page: Page) => Promise<unknown>): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'Asia/Makassar' });
  contexts.push(context);
  const origin = new URL(base).origin;
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.origin === origin) return route.continue();
    if (url.hostname.endsWith('tile.openstreetmap.org')) tileRequests += 1;
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  await beforeLoad?.(page);
  await page.goto(`${base}${path}`);
  return page;
}

const markers = (page: Page) => page.locator('.leaflet-marker-pane .vehicle-marker');
const row = (page: Page, vehicleId: string) => page.locator(`#vehicle-list tr[data-vehicle-id="${vehicleId}"]`);
/** The marker's pixel position on the map pane (Leaflet places it with a translate3d). */
const markerTransform = (page: Page, vehicleId: string) =>
  page.locator(`.vehicle-marker:has(.vm[data-vehicle-id="${vehicleId}"])`).evaluate((el) => (el as unknown as { style: { transform: string } }).style.transform);

describe.skipIf(!hasChromium)(hasChromium ? 'live map page (Chromium)' : `live map page: skipped, needs Chromium at ${CHROMIUM} (apt-get install -y chromium)`, () => {
  beforeAll(async () => {
    // Speeding above 60 km/h; every hour a working hour, so driving at any time of the test raises nothing else.
    t = await startTestService({ env: { SPEED_LIMIT_KMH: '60', WORKING_HOURS: 'Mon-Sun 00:00-24:00' } });
    base = t.services.httpUrl!;
    a = await registerVehicleWithDevice(t, { plate: plateA });
    b = await registerVehicleWithDevice(t, { plate: plateB });
    await publish(a, { lat: -10.165, lon: 123.6, speedKmh: 32, headingDeg: 45, ignition: true, fuelLitres: 31.5 }, 60_000);
    await publish(b, { lat: -10.18, lon: 123.62, speedKmh: 0, ignition: false, fuelLitres: 12 }, 60_000);
    await waitFor(async () => ((await (await t.api('/api/v1/positions/latest')).json()) as unknown[]).length >= 2, 'both first positions');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await t?.close();
  });

  it('logs in from #key=, shows a marker and a panel row per vehicle with its status, and follows MQTT positions', async () => {
    const page = await openPage(`/#key=${encodeURIComponent(t.adminKey)}`);
    await page.waitForURL(`${base}/web/`); // redirected, and the key taken out of the address bar
    await expect.poll(() => markers(page).count(), { timeout: 10_000 }).toBe(2);
    await expect.poll(() => page.locator('#conn').getAttribute('data-state')).toBe('live');

    await expect.poll(() => row(page, a.vehicleId).getAttribute('data-status')).toBe('moving');
    expect(await row(page, b.vehicleId).getAttribute('data-status')).toBe('stopped');
    expect(await row(page, a.vehicleId).locator('.plate').textContent()).toBe(plateA);
    expect(await row(page, b.vehicleId).locator('.plate').textContent()).toBe(plateB);
    expect(await row(page, a.vehicleId).locator('.dept').textContent()).toBe('Dinas Test');
    expect(await row(page, a.vehicleId).locator('.speed').textContent()).toBe('32');
    expect(await row(page, a.vehicleId).locator('.fuel').textContent()).toBe('31.5');
    expect(await page.locator('#counts li[data-status="moving"] b').textContent()).toBe('1');
    expect(await page.locator('#counts li[data-status="stopped"] b').textContent()).toBe('1');
    expect(await page.locator(`.vm[data-vehicle-id="${a.vehicleId}"]`).getAttribute('data-status')).toBe('moving');
    expect(await page.locator(`.vm[data-vehicle-id="${b.vehicleId}"] .vm-label`).textContent()).toBe(plateB);
    expect(await page.locator('.leaflet-control-attribution').textContent()).toContain('OpenStreetMap');
    expect(tileRequests).toBeGreaterThan(0);
    await page.screenshot({ path: SCREENSHOT });

    // B drives off: its marker moves and its row says so, pushed over the WebSocket.
    const before = await markerTransform(page, b.vehicleId);
    await publish(b, { lat: -10.177, lon: 123.623, speedKmh: 24, headingDeg: 90, ignition: true, fuelLitres: 11.9 });
    await expect.poll(() => row(page, b.vehicleId).getAttribute('data-status'), { timeout: 5_000 }).toBe('moving');
    expect(await row(page, b.vehicleId).locator('.speed').textContent()).toBe('24');
    expect(await markerTransform(page, b.vehicleId)).not.toBe(before);
    expect(await page.locator('#counts li[data-status="moving"] b').textContent()).toBe('2');

    // The filter box narrows the list; a click on a row centres the map on the vehicle.
    await page.fill('#filter', '2002');
    await expect.poll(() => page.locator('#vehicle-list tr').count()).toBe(1);
    await page.fill('#filter', '');
    await expect.poll(() => page.locator('#vehicle-list tr').count()).toBe(2);
    await row(page, a.vehicleId).click();
    await expect.poll(() => page.locator('.leaflet-tooltip .vm-tip b').textContent()).toBe(plateA);
    const mapBox = (await page.locator('#map').boundingBox())!;
    await expect
      .poll(async () => {
        const box = (await page.locator(`.vm[data-vehicle-id="${a.vehicleId}"] .vm-arrow`).boundingBox())!;
        return Math.hypot(box.x + box.width / 2 - (mapBox.x + mapBox.width / 2), box.y + box.height / 2 - (mapBox.y + mapBox.height / 2));
      })
      .toBeLessThan(5);
    await page.screenshot({ path: '/tmp/armada-marker.png', clip: { x: mapBox.x + mapBox.width / 2 - 120, y: mapBox.y + mapBox.height / 2 - 100, width: 240, height: 200 } });

    // The key is remembered: a reload without the fragment opens the map again.
    await page.reload();
    await expect.poll(() => markers(page).count(), { timeout: 10_000 }).toBe(2);
  });

  it('answers a wrong key with a clear message and the key form, which then takes a good key', async () => {
    const page = await openPage('/#key=not-a-real-key');
    await expect.poll(() => page.locator('#login-error').isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await page.locator('#login-error').textContent()).toContain('not accepted');
    expect(await page.locator('#map-view').isHidden()).toBe(true);
    expect(await page.evaluate("localStorage.getItem('armada.apiKey')")).toBeNull();
    await page.screenshot({ path: '/tmp/armada-login.png' });

    await page.fill('#login-key', t.adminKey);
    await page.click('#login-form button[type="submit"]');
    await expect.poll(() => markers(page).count(), { timeout: 10_000 }).toBe(2);
  });

  it("shows a department-limited key only its department's vehicle", async () => {
    const res = await t.api('/api/v1/api-keys', { method: 'POST', json: { name: 'viewer A', role: 'viewer', departmentId: a.departmentId } });
    const { key } = (await res.json()) as { key: string };
    const page = await openPage(`/web/#key=${encodeURIComponent(key)}`);
    await expect.poll(() => page.locator('#conn').getAttribute('data-state'), { timeout: 10_000 }).toBe('live');
    await expect.poll(() => markers(page).count()).toBe(1);
    expect(await page.locator('#vehicle-list tr').count()).toBe(1);
    expect(await row(page, a.vehicleId).locator('.plate').textContent()).toBe(plateA);

    // B's positions do not reach this page; A's do.
    await publish(b, { lat: -10.176, lon: 123.624, speedKmh: 20, headingDeg: 90, ignition: true });
    await publish(a, { lat: -10.166, lon: 123.601, speedKmh: 41, headingDeg: 50, ignition: true });
    await expect.poll(() => row(page, a.vehicleId).locator('.speed').textContent(), { timeout: 5_000 }).toBe('41');
    expect(await markers(page).count()).toBe(1);
    expect(await page.locator(`[data-vehicle-id="${b.vehicleId}"]`).count()).toBe(0);
  });

  it('lists unacknowledged alerts: pushed over the live feed at once, once each; an admin acknowledges one, a viewer is told why not', async () => {
    // The page's live feed goes through this route, which passes everything on and records what the server sent.
    let feed: WebSocketRoute | undefined;
    const fromServer: Array<{ type: string; id?: number }> = [];
    const admin = await openPage(`/#key=${encodeURIComponent(t.adminKey)}`, (page) =>
      page.routeWebSocket(/\/api\/v1\/live/, (ws) => {
        feed = ws;
        const server = ws.connectToServer();
        server.onMessage((m) => {
          fromServer.push(JSON.parse(String(m)));
          ws.send(m);
        });
      }),
    );
    await expect.poll(() => admin.locator('#conn').getAttribute('data-state'), { timeout: 10_000 }).toBe('live');
    await expect.poll(() => admin.locator('#alerts-empty').isVisible()).toBe(true);
    expect(await admin.locator('#alert-count').textContent()).toBe('0');
    const alertRequests: string[] = [];
    admin.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/v1/alerts')) alertRequests.push(r.url());
    });
    await admin.evaluate(() => Object.assign(globalThis, { notReloaded: true }));

    // A goes over the 60 km/h limit: one speeding alert, on the panel without a reload or a request.
    const item = (page: Page, d: Device) => page.locator(`#alert-list li[data-vehicle-id="${d.vehicleId}"][data-kind="speeding"]`);
    await publishReadings(a, [50, 75, 70].map((speedKmh, i) => ({ ageMs: 300 - i * 100, lat: -10.166, lon: 123.601, speedKmh, ignition: true })));
    await expect.poll(() => item(admin, a).count(), { timeout: 10_000 }).toBe(1);
    const [alertA] = await alertsOf(a.vehicleId);
    expect(alertA).toBeDefined();
    expect(fromServer.some((m) => m.type === 'alert' && m.id === alertA!.id)).toBe(true);
    expect(alertRequests).toEqual([]);
    expect(await admin.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(await item(admin, a).getAttribute('data-alert-id')).toBe(String(alertA!.id));
    expect(await item(admin, a).locator('.alert-kind').textContent()).toBe('Speeding');
    expect(await item(admin, a).locator('.alert-plate').textContent()).toBe(plateA);
    expect(await item(admin, a).locator('.alert-message').textContent()).toBe(alertA!.message);
    expect(alertA!.message).toContain('75 km/h');
    // In WITA (UTC+8), as the page shows other times.
    const wita = new Date(Date.parse(alertA!.at) + 8 * 3_600_000).toISOString().slice(11, 19);
    expect(await item(admin, a).locator('time').getAttribute('datetime')).toBe(alertA!.at);
    expect(await item(admin, a).locator('time').textContent()).toMatch(new RegExp(`^\\d{1,2} \\w{3},? ${wita} WITA$`));
    expect(await admin.locator('#alert-count').textContent()).toBe('1');
    expect(await admin.locator('#alerts-empty').isVisible()).toBe(false);

    // The same alert pushed again is not listed twice (the position after it shows it has been handled).
    feed!.send(JSON.stringify({ ...alertA, type: 'alert' }));
    feed!.send(JSON.stringify({ type: 'positions', positions: [{ vehicleId: a.vehicleId, departmentId: a.departmentId, at: new Date().toISOString(), lat: -10.166, lon: 123.601, speedKmh: 66, headingDeg: 50, ignition: true }] }));
    await expect.poll(() => row(admin, a.vehicleId).locator('.speed').textContent(), { timeout: 5_000 }).toBe('66');
    expect(await admin.locator('#alert-list li').count()).toBe(1);
    expect(await admin.locator('#alert-count').textContent()).toBe('1');

    // Newer alerts go on top.
    await publishReadings(b, [40, 90].map((speedKmh, i) => ({ ageMs: 200 - i * 100, lat: -10.176, lon: 123.624, speedKmh, ignition: true })));
    await expect.poll(() => item(admin, b).count(), { timeout: 10_000 }).toBe(1);
    expect(await admin.locator('#alert-list li').first().getAttribute('data-vehicle-id')).toBe(b.vehicleId);
    expect(await admin.locator('#alert-count').textContent()).toBe('2');
    expect(alertRequests).toEqual([]);
    await admin.screenshot({ path: '/tmp/armada-alerts.png' });

    // A click on an alert shows its vehicle on the map and selects its row.
    await item(admin, a).locator('.alert-show').click();
    await expect.poll(() => row(admin, a.vehicleId).getAttribute('class')).toBe('selected');
    await expect.poll(() => admin.locator('.leaflet-tooltip .vm-tip b').textContent()).toBe(plateA);

    // A viewer of A's department: the listed alert (loaded, not pushed), and the API's 403 message on Acknowledge.
    const viewerRes = await t.api('/api/v1/api-keys', { method: 'POST', json: { name: 'alerts viewer A', role: 'viewer', departmentId: a.departmentId } });
    const viewerKey = ((await viewerRes.json()) as { key: string }).key;
    const refused = await t.api(`/api/v1/alerts/${alertA!.id}/acknowledge`, { method: 'POST', key: viewerKey, json: {} });
    expect(refused.status).toBe(403);
    const refusal = ((await refused.json()) as { error: { message: string } }).error.message;
    const viewer = await openPage(`/web/#key=${encodeURIComponent(viewerKey)}`);
    await expect.poll(() => item(viewer, a).count(), { timeout: 10_000 }).toBe(1);
    expect(await viewer.locator('#alert-list li').count()).toBe(1);
    expect(await viewer.locator('#alert-count').textContent()).toBe('1');
    await item(viewer, a).locator('.alert-note').fill('seen');
    await item(viewer, a).getByRole('button', { name: 'Acknowledge' }).click();
    await expect.poll(() => item(viewer, a).locator('.alert-error').isVisible(), { timeout: 5_000 }).toBe(true);
    expect(await item(viewer, a).locator('.alert-error').textContent()).toBe(`Not acknowledged: ${refusal}`);
    expect(refusal).toContain('viewer');
    expect(await item(viewer, a).count()).toBe(1);
    expect(await item(viewer, a).getByRole('button', { name: 'Acknowledge' }).textContent()).toBe('Acknowledge');
    expect(await viewer.locator('#alert-count').textContent()).toBe('1');
    expect((await alertsOf(a.vehicleId))[0]!.acknowledgedAt).toBeNull();

    // The admin acknowledges A's alert with a note: it leaves the list, and the API has it acknowledged.
    await item(admin, a).locator('.alert-note').fill('Driver warned by phone');
    await item(admin, a).getByRole('button', { name: 'Acknowledge' }).click();
    await expect.poll(() => item(admin, a).count(), { timeout: 5_000 }).toBe(0);
    expect(await admin.locator('#alert-count').textContent()).toBe('1');
    const [acked] = await alertsOf(a.vehicleId);
    expect(acked!.acknowledgedAt).not.toBeNull();
    expect(acked!.acknowledgedNote).toBe('Driver warned by phone');
    // And B's, without a note: nothing left.
    await item(admin, b).getByRole('button', { name: 'Acknowledge' }).click();
    await expect.poll(() => admin.locator('#alerts-empty').isVisible(), { timeout: 5_000 }).toBe(true);
    expect(await admin.locator('#alert-count').textContent()).toBe('0');
    const [ackedB] = await alertsOf(b.vehicleId);
    expect(ackedB!.acknowledgedAt).not.toBeNull();
    expect(ackedB!.acknowledgedNote).toBeNull();
    expect(await item(viewer, a).locator('.alert-error').isVisible()).toBe(true);
  });
});
