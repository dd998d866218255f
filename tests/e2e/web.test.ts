/**
 * The web app in a real browser (Debian's Chromium through playwright-core): the key
 * form, the live map (a canvas of markers fed by the live feed, the side panel, the
 * alerts panel), the vehicle history (route, fuel chart, replay), the fuel report (the
 * API's totals, a CSV fetched with the key in the header), the language switch, a
 * department-limited key and the phone-width layout. The browser may reach only the
 * test server: map tiles and everything else are refused, so the map is grey.
 * Screenshots of each screen go to tests/e2e/screenshots/ (ignored by git).
 * Skipped when /usr/bin/chromium is missing (`apt-get install -y chromium`).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import { chromium, type Browser, type BrowserContext, type Page, type WebSocketRoute } from 'playwright-core';
import { telemetryTopic } from '../../src/domain/topics.js';
import { connectDevice, registerVehicleWithDevice, startTestService, waitFor, type TestService } from '../support/service.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const SHOTS = join(import.meta.dirname, 'screenshots');

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
/** Every request URL the pages made to the API and every WebSocket they opened, to check that no key is ever in one. */
const apiUrls: string[] = [];

async function publish(
  d: Device,
  fix: { lat: number; lon: number; speedKmh: number; headingDeg?: number; ignition: boolean; fuelLitres?: number },
  ageMs = 0,
) {
  const client = await connectDevice(t.deviceMqttUrl, d.deviceId, d.secret);
  const ts = new Date(Date.now() - ageMs).toISOString();
  await client.publishAsync(telemetryTopic(d.deviceId), JSON.stringify({ ts, ...fix }), { qos: 1 });
  await client.endAsync();
  return ts;
}

/** Several readings in one message, `ts` in milliseconds from now. */
async function publishReadings(
  d: Device,
  readings: Array<{
    ageMs: number;
    lat: number;
    lon: number;
    speedKmh: number;
    ignition: boolean;
    fuelLitres?: number;
    headingDeg?: number;
  }>,
) {
  const client = await connectDevice(t.deviceMqttUrl, d.deviceId, d.secret);
  const now = Date.now();
  const payload = readings.map(({ ageMs, ...r }) => ({ ts: new Date(now - ageMs).toISOString(), ...r }));
  await client.publishAsync(telemetryTopic(d.deviceId), JSON.stringify(payload), { qos: 1 });
  await client.endAsync();
}

type Alert = {
  id: number;
  kind: string;
  vehicleId: string;
  at: string;
  message: string;
  acknowledgedAt: string | null;
  acknowledgedNote: string | null;
};
const alertsOf = async (vehicleId: string) =>
  ((await (await t.api(`/api/v1/alerts?vehicleId=${vehicleId}`)).json()) as Alert[]).filter((x) => x.kind === 'speeding');

/** A fresh browser profile that may reach the test server and nothing else, in English unless `lang` says otherwise. */
async function openPage(
  path: string,
  {
    beforeLoad,
    lang = 'en',
    viewport = { width: 1280, height: 800 },
  }: { beforeLoad?: (page: Page) => Promise<unknown>; lang?: 'en' | 'id' | null; viewport?: { width: number; height: number } } = {},
): Promise<Page> {
  const context = await browser.newContext({ viewport, timezoneId: 'Asia/Makassar', acceptDownloads: true });
  contexts.push(context);
  const origin = new URL(base).origin;
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.origin === origin) {
      if (url.pathname.startsWith('/api/')) apiUrls.push(url.href);
      return route.continue();
    }
    if (url.hostname.endsWith('tile.openstreetmap.org')) tileRequests += 1;
    return route.abort('blockedbyclient');
  });
  // The page's language unless the page has chosen one (as text: the tests are not compiled for the DOM).
  if (lang)
    await context.addInitScript({ content: `localStorage.getItem('armada.lang') ?? localStorage.setItem('armada.lang', '${lang}')` });
  const page = await context.newPage();
  page.on('websocket', (ws) => apiUrls.push(ws.url()));
  await beforeLoad?.(page);
  await page.goto(`${base}${path}`);
  return page;
}

/** Another screen of the app, as a link would open it. */
const goTo = (page: Page, hash: string) => page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });
const row = (page: Page, vehicleId: string) => page.locator(`#vehicle-list > [data-vehicle-id="${vehicleId}"]`);
const visibleRows = (page: Page) => page.locator('#vehicle-list > [data-vehicle-id]');
/** Where the canvas layer last drew each vehicle's marker (container pixels), by vehicle id. */
const drawn = (page: Page) =>
  page.evaluate(() => {
    const layer = (globalThis as unknown as { armadaDebug?: { layer: { drawnAt: Map<string, { x: number; y: number }> } } }).armadaDebug
      ?.layer;
    return Object.fromEntries([...(layer?.drawnAt ?? new Map())].map(([id, p]) => [id, { x: Math.round(p.x), y: Math.round(p.y) }]));
  });
const markerCount = async (page: Page) => Object.keys(await drawn(page)).length;

/** Each screen of the app (its hash) and an element that shows it has rendered. */
const everyScreen = (): Array<[string, string]> => [
  ['#/map', '#vehicle-list'],
  [`#/vehicle/${a.vehicleId}`, '#replay-position'],
  ['#/reports', 'tr.vehicle-row'],
  ['#/alerts', '#alerts-kind'],
  ['#/settings', 'form.rules'],
  ['#/finance/savings', '#savings-mode'],
  ['#/finance/reconciliation', '.tabs'],
  ['#/finance/purchases', '#purchase-form'],
  ['#/finance/vouchers', '#voucher-form'],
  ['#/finance/closings', '#closing-form'],
];

describe.skipIf(!hasChromium)(
  hasChromium ? 'web app (Chromium)' : `web app: skipped, needs Chromium at ${CHROMIUM} (apt-get install -y chromium)`,
  () => {
    beforeAll(async () => {
      mkdirSync(SHOTS, { recursive: true });
      // Speeding above 60 km/h; every hour a working hour, so driving at any time of the test raises nothing else.
      t = await startTestService({ env: { SPEED_LIMIT_KMH: '60', WORKING_HOURS: 'Mon-Sun 00:00-24:00' } });
      base = t.services.httpUrl!;
      a = await registerVehicleWithDevice(t, { plate: plateA });
      b = await registerVehicleWithDevice(t, { plate: plateB });
      // A's last 40 minutes, a reading a minute: driving north-east with the tank going down, then
      // standing with the engine off from minute 16 to 26 while 18 L go in, then driving on.
      await publishReadings(
        a,
        Array.from({ length: 40 }, (_, i) => {
          const standing = i >= 16 && i <= 26;
          const moved = Math.min(i, 16) + Math.max(0, i - 26);
          return {
            ageMs: (41 - i) * 60_000,
            lat: -10.2 + moved * 0.0012,
            lon: 123.57 + moved * 0.0012,
            speedKmh: standing ? 0 : 35,
            headingDeg: 45,
            ignition: !standing,
            fuelLitres: i <= 20 ? 30 - moved * 0.15 : 48 - moved * 0.15,
          };
        }),
      );
      await publish(a, { lat: -10.165, lon: 123.6, speedKmh: 32, headingDeg: 45, ignition: true, fuelLitres: 31.5 }, 60_000);
      await publish(b, { lat: -10.18, lon: 123.62, speedKmh: 0, ignition: false, fuelLitres: 12 }, 60_000);
      await waitFor(
        async () => ((await (await t.api('/api/v1/positions/latest')).json()) as unknown[]).length >= 2,
        'both first positions',
      );
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--no-first-run',
        ],
      });
    });

    afterAll(async () => {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser?.close();
      await t?.close();
    });

    let admin: Page;

    it('logs in from #key=, draws a marker and keeps a panel row per vehicle, and follows MQTT positions', async () => {
      admin = await openPage(`/#key=${encodeURIComponent(t.adminKey)}`);
      await admin.waitForURL(`${base}/web/#/map`); // redirected, and the key taken out of the address bar
      await expect.poll(() => markerCount(admin), { timeout: 10_000 }).toBe(2);
      await expect.poll(() => admin.locator('#conn').getAttribute('data-state')).toBe('live');

      await expect.poll(() => row(admin, a.vehicleId).getAttribute('data-status')).toBe('moving');
      expect(await row(admin, b.vehicleId).getAttribute('data-status')).toBe('stopped');
      expect(await row(admin, a.vehicleId).locator('.plate').textContent()).toBe(plateA);
      expect(await row(admin, b.vehicleId).locator('.plate').textContent()).toBe(plateB);
      expect(await row(admin, a.vehicleId).locator('.dept').textContent()).toBe('Dinas Test');
      expect(await row(admin, a.vehicleId).locator('.speed').textContent()).toBe('32');
      expect(await row(admin, a.vehicleId).locator('.fuel').textContent()).toBe('31.5');
      expect(await admin.locator('#counts li[data-status="moving"] b').textContent()).toBe('1');
      expect(await admin.locator('#counts li[data-status="stopped"] b').textContent()).toBe('1');
      expect(await admin.locator('.leaflet-control-attribution').textContent()).toContain('OpenStreetMap');
      expect(await admin.locator('.legend').textContent()).toContain('moving');
      // The city boundary from GET /api/v1/geofences, drawn although the tiles are missing.
      expect(await admin.locator('.leaflet-overlay-pane path').count()).toBeGreaterThan(0);
      expect(await admin.locator('.map-note').textContent()).toContain('tiles');
      expect(tileRequests).toBeGreaterThan(0);
      await shot(admin, 'live-map');

      // B drives off: its marker moves and its row says so, pushed over the WebSocket. A's row is the same element as before.
      const rowA = await row(admin, a.vehicleId).elementHandle();
      const before = (await drawn(admin))[b.vehicleId];
      await publish(b, { lat: -10.177, lon: 123.623, speedKmh: 24, headingDeg: 90, ignition: true, fuelLitres: 11.9 });
      await expect.poll(() => row(admin, b.vehicleId).getAttribute('data-status'), { timeout: 5_000 }).toBe('moving');
      expect(await row(admin, b.vehicleId).locator('.speed').textContent()).toBe('24');
      expect((await drawn(admin))[b.vehicleId]).not.toEqual(before);
      expect(await admin.locator('#counts li[data-status="moving"] b').textContent()).toBe('2');
      expect(await rowA!.evaluate((el) => el.isConnected)).toBe(true);

      // The filter box narrows the list and the map (the list shows the rows in view, and keeps them);
      // a click on a row centres the map on the vehicle.
      await admin.fill('#filter', '2002');
      await expect.poll(() => visibleRows(admin).count()).toBe(1);
      await expect.poll(() => markerCount(admin)).toBe(1);
      await admin.fill('#filter', '');
      await expect.poll(() => visibleRows(admin).count()).toBe(2);
      await row(admin, a.vehicleId).click();
      await expect.poll(() => admin.locator('.leaflet-popup .vm-tip b').textContent()).toBe(plateA);
      const mapBox = (await admin.locator('#map').boundingBox())!;
      await expect
        .poll(async () => {
          const p = (await drawn(admin))[a.vehicleId]!;
          return Math.hypot(p.x - mapBox.width / 2, p.y - mapBox.height / 2);
        })
        .toBeLessThan(5);
      await admin.screenshot({
        path: join(SHOTS, 'live-map-marker.png'),
        clip: { x: mapBox.x + mapBox.width / 2 - 140, y: mapBox.y + mapBox.height / 2 - 160, width: 280, height: 220 },
      });

      // The key is remembered: a reload without the fragment opens the map again.
      await admin.reload();
      await expect.poll(() => markerCount(admin), { timeout: 10_000 }).toBe(2);
    });

    it('opens a vehicle clicked on the map in its history: route, trips, a fuel chart with the refuel, a replay that moves', async () => {
      const mapBox = (await admin.locator('#map').boundingBox())!;
      await expect.poll(async () => (await drawn(admin))[a.vehicleId], { timeout: 5_000 }).toBeDefined();
      const p = (await drawn(admin))[a.vehicleId]!;
      await admin.mouse.click(mapBox.x + p.x, mapBox.y + p.y);
      await expect.poll(() => admin.locator('.leaflet-popup .vm-tip b').textContent()).toBe(plateA);
      await admin.locator('.leaflet-popup a.vm-history').click();
      await expect.poll(() => admin.locator('#history-title').textContent(), { timeout: 10_000 }).toBe(`Vehicle history: ${plateA}`);
      expect(new URL(admin.url()).hash).toMatch(
        new RegExp(`^#/vehicle/${a.vehicleId}\\?from=\\d{4}-\\d{2}-\\d{2}&to=\\d{4}-\\d{2}-\\d{2}$`),
      );
      await expect.poll(() => admin.locator('path.route').count(), { timeout: 10_000 }).toBe(1);
      // uPlot draws the fuel level on a canvas; the refuel is listed beside it, in WITA.
      await expect.poll(() => admin.locator('.fuel-chart canvas').count()).toBeGreaterThan(0);
      await expect.poll(() => admin.locator('.events .event-refuel').count()).toBeGreaterThan(0);
      expect(await admin.locator('.events .event-refuel').first().textContent()).toMatch(/WITA · Refuel \d+\.\d L/);
      expect(await admin.locator('.summary').textContent()).toMatch(/km, \d+\.\d L fuel/);
      await shot(admin, 'history');

      // Replay: the marker leaves the route's start.
      const marker = admin.locator('.replay-marker');
      const start = await marker.evaluate((el) => (el as unknown as { style: { transform: string } }).style.transform);
      await admin.selectOption('#replay-speed', '1200');
      await admin.click('#replay-play');
      await expect
        .poll(() => marker.evaluate((el) => (el as unknown as { style: { transform: string } }).style.transform), { timeout: 5_000 })
        .not.toBe(start);
      await expect.poll(async () => Number(await admin.locator('#replay-position').inputValue())).toBeGreaterThan(0);
      await admin.click('#replay-play'); // pause
    });

    it('reaches a vehicle with the keyboard alone: the list is one tab stop, arrows choose, Enter opens, Escape closes', async () => {
      const page = await openPage(`/#key=${encodeURIComponent(t.adminKey)}`);
      await expect.poll(() => markerCount(page), { timeout: 10_000 }).toBe(2);
      await expect.poll(() => visibleRows(page).count()).toBe(2);
      // From the top of the page, Tab by Tab: the navigation, the panel's controls, then the list.
      const stops: string[] = [];
      for (let i = 0; i < 40 && stops.at(-1) !== 'vehicle-list'; i++) {
        await page.keyboard.press('Tab');
        stops.push(
          await page.evaluate(() => {
            const el = (globalThis as unknown as { document: { activeElement: { id: string; tagName: string; textContent: string } } })
              .document.activeElement;
            return el.id || `${el.tagName.toLowerCase()}:${el.textContent.trim().slice(0, 20)}`;
          }),
        );
      }
      expect(stops.at(-1)).toBe('vehicle-list');
      expect(stops.indexOf('filter')).toBeGreaterThan(stops.indexOf('a:Live map'));
      expect(stops.indexOf('filter')).toBeLessThan(stops.indexOf('vehicle-list'));
      // One stop for the whole list, whatever its length; the rows are its options, A's (first by plate) the active one.
      expect(stops.filter((s) => s === 'vehicle-list')).toHaveLength(1);
      const list = page.locator('#vehicle-list');
      expect(await list.getAttribute('role')).toBe('listbox');
      expect(await list.getAttribute('aria-label')).toBe('Vehicle list');
      expect(await list.getAttribute('aria-activedescendant')).toBe(`vrow-${a.vehicleId}`);
      expect(await row(page, a.vehicleId).getAttribute('role')).toBe('option');
      expect(await page.locator('.leaflet-popup').count()).toBe(0);

      await page.keyboard.press('ArrowDown');
      expect(await list.getAttribute('aria-activedescendant')).toBe(`vrow-${b.vehicleId}`);
      expect(await row(page, b.vehicleId).getAttribute('class')).toContain('active');
      await page.keyboard.press('ArrowDown'); // the last row stays the last
      expect(await list.getAttribute('aria-activedescendant')).toBe(`vrow-${b.vehicleId}`);
      await page.keyboard.press('Home');
      expect(await list.getAttribute('aria-activedescendant')).toBe(`vrow-${a.vehicleId}`);
      await page.keyboard.press('End');
      expect(await list.getAttribute('aria-activedescendant')).toBe(`vrow-${b.vehicleId}`);
      await shot(page, 'live-map-keyboard');

      // Enter: B selected and centred, its popup open, the keyboard on the popup's history link.
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('.leaflet-popup .vm-tip b').textContent()).toBe(plateB);
      const focusedLink = () =>
        page.evaluate(() => {
          const el = (globalThis as unknown as { document: { activeElement: { className: string; getAttribute(n: string): string } } })
            .document.activeElement;
          return `${el.className}|${el.getAttribute('aria-label')}`;
        });
      expect(await focusedLink()).toBe(`vm-history|History of ${plateB}`);
      expect(await row(page, b.vehicleId).getAttribute('aria-selected')).toBe('true');
      const mapBox = (await page.locator('#map').boundingBox())!;
      const atB = (await drawn(page))[b.vehicleId]!;
      expect(Math.abs(atB.x - mapBox.width / 2)).toBeLessThan(30); // centred
      expect(Math.abs(atB.y - mapBox.height / 2)).toBeLessThan(30);
      await shot(page, 'live-map-keyboard-popup');

      // Escape: the popup closes and the keyboard is back on B's row.
      await page.keyboard.press('Escape');
      await expect.poll(() => page.locator('.leaflet-popup').count()).toBe(0);
      expect(
        await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id),
      ).toBe('vehicle-list');
      expect(await list.getAttribute('aria-activedescendant')).toBe(`vrow-${b.vehicleId}`);

      // Up to A, Enter, Enter: A's history.
      await page.keyboard.press('ArrowUp');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('.leaflet-popup .vm-tip b').textContent()).toBe(plateA);
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('#history-title').textContent(), { timeout: 10_000 }).toBe(`Vehicle history: ${plateA}`);
      expect(new URL(page.url()).hash).toMatch(new RegExp(`^#/vehicle/${a.vehicleId}\\?from=`));
    });

    it('shows the fuel report with the totals the API returns, and downloads its CSV and XLSX with the key in the header', async () => {
      // Yesterday and today in WITA: A's readings of the last 40 minutes are in it whatever the hour.
      const witaDay = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 10);
      const [from, to] = [witaDay(Date.now() - 86_400_000), witaDay(Date.now())];
      const reportUrl = admin.waitForRequest((r) => new URL(r.url()).pathname === '/api/v1/reports/fuel');
      await goTo(admin, `#/reports?from=${from}&to=${to}`);
      const asked = new URL((await reportUrl).url());
      const rows = (await (await t.api(`${asked.pathname}${asked.search}`)).json()) as Array<{
        vehicleId: string;
        distanceKm: number;
        fuelUsedLitres: number;
      }>;
      const total = (k: 'distanceKm' | 'fuelUsedLitres') => rows.reduce((s, r) => s + r[k], 0);
      expect(total('distanceKm')).toBeGreaterThan(1);
      const one = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
      await expect
        .poll(() => admin.locator('tfoot .total td[data-col="distanceKm"]').textContent(), { timeout: 10_000 })
        .toBe(one.format(total('distanceKm')));
      expect(await admin.locator('tfoot .total td[data-col="fuelUsedLitres"]').textContent()).toBe(one.format(total('fuelUsedLitres')));
      expect(await admin.locator('tr.vehicle-row').count()).toBe(rows.length);
      const rowOfA = rows.find((r) => r.vehicleId === a.vehicleId)!;
      expect(await admin.locator(`tr.vehicle-row[data-vehicle-id="${a.vehicleId}"] td[data-col="distanceKm"]`).textContent()).toBe(
        one.format(rowOfA.distanceKm),
      );

      // Sorting by distance, longest first: A's row leads.
      await admin.click('button[data-sort="distanceKm"]');
      await expect.poll(() => admin.locator('th[aria-sort="descending"] button[data-sort="distanceKm"]').count()).toBe(1);
      await shot(admin, 'reports');

      // The CSV: fetched with the Authorization header, saved as a file; no key in any URL the page asked for.
      const csvRequest = admin.waitForRequest((r) => r.url().includes('format=csv'));
      const download = admin.waitForEvent('download');
      await admin.click('#reports-csv');
      expect((await csvRequest).headers().authorization).toBe(`Bearer ${t.adminKey}`);
      const file = await (await download).path();
      const csv = readFileSync(file, 'utf8');
      expect(csv).toContain(plateA);
      expect(csv).toContain(plateB);

      // The XLSX, the same way: a workbook whose figures are the JSON report's, row by row, and their sums.
      const xlsxRequest = admin.waitForRequest((r) => r.url().includes('format=xlsx'));
      const xlsxDownload = admin.waitForEvent('download');
      await admin.click('#reports-xlsx');
      const xlsxReq = await xlsxRequest;
      expect(xlsxReq.headers().authorization).toBe(`Bearer ${t.adminKey}`);
      expect(new URL(xlsxReq.url()).searchParams.get('from')).toBe(asked.searchParams.get('from'));
      const saved = await xlsxDownload;
      expect(saved.suggestedFilename()).toBe(`fuel-report-${from}-to-${to}.xlsx`);
      const book = new ExcelJS.Workbook();
      await book.xlsx.readFile(await saved.path());
      const sheet = book.getWorksheet('Fuel report')!;
      // Rows and cells are 1-based and sparse (an empty cell, a null, is a hole).
      const grid = Array.from(sheet.getSheetValues(), (r) => (Array.isArray(r) ? Array.from(r.slice(1)) : [])) as unknown[][];
      const headerAt = grid.findIndex((r) => r[0] === 'vehicleId');
      const head = grid[headerAt] as string[];
      const records = grid.slice(headerAt + 1).filter((r) => r.length > 0);
      const full = (await (await t.api(`${asked.pathname}${asked.search}`)).json()) as Array<Record<string, string | number | null>>;
      expect(records.length).toBe(full.length + 1); // the vehicles and the totals row
      const numeric = Object.keys(full[0]!).filter((k) => full.some((r) => typeof r[k] === 'number'));
      expect(numeric).toEqual(
        expect.arrayContaining(['distanceKm', 'fuelUsedLitres', 'idleLitres', 'distanceOutsideHoursKm', 'tripCount']),
      );
      for (const json of full) {
        const cells = records.find((r) => r[0] === json.vehicleId)!;
        expect(cells[head.indexOf('plateNumber')]).toBe(json.plateNumber);
        expect(cells[head.indexOf('departmentName')]).toBe('Dinas Test');
        for (const k of numeric) expect(cells[head.indexOf(k)] ?? null, k).toBe(json[k]);
      }
      const totalRow = records.at(-1)!;
      expect(totalRow[0]).toBe('TOTAL');
      for (const k of ['distanceKm', 'fuelUsedLitres', 'tripCount'])
        expect(totalRow[head.indexOf(k)], k).toBeCloseTo(
          full.reduce((sum, r) => sum + (r[k] as number), 0),
          3,
        );
      // Not even the live feed's: its key goes as a WebSocket subprotocol.
      expect(apiUrls.some((u) => new URL(u).pathname === '/api/v1/live')).toBe(true);
      expect(apiUrls.filter((u) => u.includes(encodeURIComponent(t.adminKey)) || u.includes(t.adminKey))).toEqual([]);

      // A row opens the vehicle's history for the report's period.
      await admin.locator(`tr.vehicle-row[data-vehicle-id="${a.vehicleId}"] a`).click();
      await expect.poll(() => admin.locator('#history-title').textContent(), { timeout: 10_000 }).toBe(`Vehicle history: ${plateA}`);
      expect(new URL(admin.url()).hash).toBe(`#/vehicle/${a.vehicleId}?from=${from}&to=${to}`);
      expect(asked.searchParams.get('from')).toBe(new Date(Date.parse(`${from}T00:00:00+08:00`)).toISOString());
    });

    it('switches between Indonesian and English, every text of the screen, and remembers the choice', async () => {
      const page = await openPage(`/#key=${encodeURIComponent(t.adminKey)}`, { lang: null });
      await expect.poll(() => page.locator('#conn').getAttribute('data-state'), { timeout: 10_000 }).toBe('live');
      expect(await page.locator('html').getAttribute('lang')).toBe('id');
      expect(await page.locator('#nav a[data-screen="map"]').textContent()).toBe('Peta langsung');
      expect(await page.locator('#counts li[data-status="moving"]').textContent()).toContain('bergerak');
      await expect.poll(() => row(page, a.vehicleId).locator('.fuel').textContent()).toBe('31,5');
      await page.locator('.top .lang-switch').click();
      await expect.poll(() => page.locator('#nav a[data-screen="map"]').textContent()).toBe('Live map');
      expect(await page.locator('html').getAttribute('lang')).toBe('en');
      await expect.poll(() => page.locator('#counts li[data-status="moving"]').textContent()).toContain('moving');
      await expect.poll(() => row(page, a.vehicleId).locator('.fuel').textContent(), { timeout: 10_000 }).toBe('31.5');
      await page.reload();
      await expect.poll(() => page.locator('#nav a[data-screen="map"]').textContent(), { timeout: 10_000 }).toBe('Live map');
      await page.locator('.top .lang-switch').click();
      await expect.poll(() => page.locator('#nav a[data-screen="alerts"]').textContent()).toBe('Peringatan');
      await goTo(page, '#/alerts');
      await expect.poll(() => page.locator('#alerts-title').textContent()).toBe('Peringatan');
      await shot(page, 'alerts-id');
    });

    it('answers a wrong key with a clear message and the key form, which then takes a good key', async () => {
      const page = await openPage('/#key=not-a-real-key');
      await expect.poll(() => page.locator('#login-error').isVisible(), { timeout: 10_000 }).toBe(true);
      expect(await page.locator('#login-error').textContent()).toContain('not accepted');
      expect(await page.locator('#app-view').isHidden()).toBe(true);
      expect(await page.evaluate("localStorage.getItem('armada.apiKey')")).toBeNull();
      await shot(page, 'login');

      await page.fill('#login-key', t.adminKey);
      await page.click('#login-form button[type="submit"]');
      await expect.poll(() => markerCount(page), { timeout: 10_000 }).toBe(2);
    });

    it("shows a department-limited key only its department's vehicle: on the map, in the report, the history and its plate picker", async () => {
      const res = await t.api('/api/v1/api-keys', {
        method: 'POST',
        json: { name: 'viewer A', role: 'viewer', departmentId: a.departmentId },
      });
      const { key } = (await res.json()) as { key: string };
      const page = await openPage(`/web/#key=${encodeURIComponent(key)}`);
      await expect.poll(() => page.locator('#conn').getAttribute('data-state'), { timeout: 10_000 }).toBe('live');
      await expect.poll(() => markerCount(page)).toBe(1);
      expect(await page.locator('#vehicle-list > [data-vehicle-id]').count()).toBe(1);
      expect(await row(page, a.vehicleId).locator('.plate').textContent()).toBe(plateA);
      expect(await page.locator('#dept-filter').isVisible()).toBe(false);

      // B's positions do not reach this page; A's do.
      await publish(b, { lat: -10.176, lon: 123.624, speedKmh: 20, headingDeg: 90, ignition: true });
      await publish(a, { lat: -10.166, lon: 123.601, speedKmh: 41, headingDeg: 50, ignition: true });
      await expect.poll(() => row(page, a.vehicleId).locator('.speed').textContent(), { timeout: 5_000 }).toBe('41');
      expect(await markerCount(page)).toBe(1);
      expect(await page.locator(`[data-vehicle-id="${b.vehicleId}"]`).count()).toBe(0);

      await goTo(page, '#/reports');
      await expect.poll(() => page.locator('tr.vehicle-row').count(), { timeout: 10_000 }).toBe(1);
      expect(await page.locator(`tr.vehicle-row[data-vehicle-id="${a.vehicleId}"]`).count()).toBe(1);
      expect(await page.locator('#reports-department').count()).toBe(0);
      await goTo(page, '#/settings');
      await expect.poll(() => page.locator('form.rules').count(), { timeout: 10_000 }).toBe(1);
      expect(await page.locator('.warning').textContent()).toContain('Only an admin');

      // The history: its plate picker offers A alone, and B's history (a link from elsewhere) is refused, not shown.
      await goTo(page, `#/vehicle/${a.vehicleId}`);
      await expect.poll(() => page.locator('#history-title').textContent(), { timeout: 10_000 }).toBe(`Vehicle history: ${plateA}`);
      expect(
        await page.locator('#history-plates option').evaluateAll((o) => o.map((x) => (x as unknown as { value: string }).value)),
      ).toEqual([plateA]);
      await goTo(page, `#/vehicle/${b.vehicleId}`);
      await expect.poll(() => page.locator('[role="alert"]').count(), { timeout: 10_000 }).toBeGreaterThan(0);
      expect(await page.locator('body').textContent()).not.toContain(plateB);
      expect(await page.locator('path.route').count()).toBe(0);
    });

    it('names every input on every screen (a label, aria-label or aria-labelledby)', async () => {
      const page = await openPage(`/#key=${encodeURIComponent(t.adminKey)}`);
      await expect.poll(() => markerCount(page), { timeout: 10_000 }).toBe(2);
      const unnamed = () =>
        page.locator('input:not([type="hidden"]), select, textarea').evaluateAll((els) =>
          (
            els as unknown as Array<{
              labels: ArrayLike<unknown> | null;
              id: string;
              outerHTML: string;
              getAttribute(n: string): string | null;
              closest(s: string): unknown;
            }>
          )
            .filter(
              (el) =>
                !(el.labels && el.labels.length > 0) &&
                !el.getAttribute('aria-label') &&
                !el.getAttribute('aria-labelledby') &&
                !el.closest('[hidden]'),
            )
            .map((el) => el.outerHTML.slice(0, 120)),
        );
      const screens = everyScreen();
      for (const [hash, ready] of screens) {
        await goTo(page, hash);
        await page.locator(ready).first().waitFor({ timeout: 10_000 });
        expect(await page.locator('input, select, textarea').count(), hash).toBeGreaterThan(0);
        expect(await unnamed(), hash).toEqual([]);
      }
    });

    it('keeps every text on every screen readable: WCAG AA contrast against what it is drawn on', async () => {
      const page = await openPage(`/#key=${encodeURIComponent(t.adminKey)}`);
      await expect.poll(() => markerCount(page), { timeout: 10_000 }).toBe(2);
      // In the page (as text: the tests are not compiled for the DOM). Each visible element
      // with text of its own: its colour against the first opaque background behind it
      // (the element's, else its ancestors'), blended with the colour's own alpha; AA asks
      // 4.5:1, or 3:1 for large text (24 px, or 18.66 px bold). Disabled controls are exempt.
      const lowContrast = `(() => {
        const rgba = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null; const [r, g, b, a = '1'] = m[1].split(/[ ,/]+/).filter(Boolean); return [+r, +g, +b, +a]; };
        const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
        const background = (el) => { for (let e = el; e; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor); if (c && c[3] > 0.5) return c; } return [255, 255, 255, 1]; };
        const bad = [];
        for (const el of document.querySelectorAll('body *')) {
          if (!Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
          const style = getComputedStyle(el);
          const box = el.getBoundingClientRect();
          if (box.width === 0 || box.height === 0 || style.visibility !== 'visible' || el.closest('[hidden], [disabled], [aria-hidden="true"]')) continue;
          const fg = rgba(style.color); const bg = background(el);
          if (!fg) continue;
          const mixed = fg.slice(0, 3).map((v, i) => v * fg[3] + bg[i] * (1 - fg[3]));
          const [hi, lo] = [lum(mixed), lum(bg)].sort((x, y) => y - x);
          const ratio = (hi + 0.05) / (lo + 0.05);
          const size = parseFloat(style.fontSize); const bold = +style.fontWeight >= 700;
          const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
          if (ratio < need) bad.push(el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '') + ' "' + el.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2));
        }
        return bad;
      })()`;
      const screens = everyScreen();
      for (const [hash, ready] of screens) {
        await goTo(page, hash);
        await page.locator(ready).first().waitFor({ timeout: 10_000 });
        expect(await page.evaluate(lowContrast), hash).toEqual([]);
      }
    });

    it('lists unacknowledged alerts: pushed at once, once each; an admin acknowledges one, a viewer is told why not', async () => {
      // The page's live feed goes through this route, which passes everything on and records what the server sent.
      let feed: WebSocketRoute | undefined;
      const fromServer: Array<{ type: string; id?: number }> = [];
      const admin = await openPage(`/#key=${encodeURIComponent(t.adminKey)}`, {
        beforeLoad: (page) =>
          page.routeWebSocket(/\/api\/v1\/live/, (ws) => {
            feed = ws;
            const server = ws.connectToServer();
            server.onMessage((m) => {
              fromServer.push(JSON.parse(String(m)));
              ws.send(m);
            });
          }),
      });
      const pageErrors: string[] = [];
      admin.on('pageerror', (e) => pageErrors.push(e.message));
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
      await publishReadings(
        a,
        [50, 75, 70].map((speedKmh, i) => ({ ageMs: 300 - i * 100, lat: -10.166, lon: 123.601, speedKmh, ignition: true })),
      );
      await expect.poll(() => item(admin, a).count(), { timeout: 10_000 }).toBe(1);
      const [alertA] = await alertsOf(a.vehicleId);
      expect(alertA).toBeDefined();
      expect(fromServer.some((m) => m.type === 'alert' && m.id === alertA!.id)).toBe(true);
      expect(alertRequests).toEqual([]);
      expect(await admin.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
      expect(await item(admin, a).getAttribute('data-alert-id')).toBe(String(alertA!.id));
      expect(await item(admin, a).locator('.alert-kind').textContent()).toBe('Speeding');
      expect(await item(admin, a).locator('.alert-plate').textContent()).toBe(plateA);
      // The page writes the alert in its language from the alert's details: in English, the API's own text.
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
      feed!.send(
        JSON.stringify({
          type: 'positions',
          positions: [
            {
              vehicleId: a.vehicleId,
              departmentId: a.departmentId,
              at: new Date().toISOString(),
              lat: -10.166,
              lon: 123.601,
              speedKmh: 66,
              headingDeg: 50,
              ignition: true,
            },
          ],
        }),
      );
      await expect.poll(() => row(admin, a.vehicleId).locator('.speed').textContent(), { timeout: 5_000 }).toBe('66');
      expect(await admin.locator('#alert-list li').count()).toBe(1);
      expect(await admin.locator('#alert-count').textContent()).toBe('1');

      // Newer alerts go on top.
      await publishReadings(
        b,
        [40, 90].map((speedKmh, i) => ({ ageMs: 200 - i * 100, lat: -10.176, lon: 123.624, speedKmh, ignition: true })),
      );
      await expect.poll(() => item(admin, b).count(), { timeout: 10_000 }).toBe(1);
      expect(await admin.locator('#alert-list li').first().getAttribute('data-vehicle-id')).toBe(b.vehicleId);
      expect(await admin.locator('#alert-count').textContent()).toBe('2');
      expect(alertRequests).toEqual([]);
      await shot(admin, 'live-map-alerts');

      // Indonesian: the same alert in Indonesian words.
      // (Checked on the alerts screen below; the panel stays in English here.)

      // The feed drops: the page counts down to its reconnect (no TypeError on the way) and is live again.
      const dropped = feed!;
      await dropped.close();
      await expect.poll(() => admin.locator('#conn').textContent(), { timeout: 5_000 }).toMatch(/^offline, retrying in \d+ s$/);
      await expect.poll(() => feed !== dropped, { timeout: 10_000 }).toBe(true);
      await expect.poll(() => admin.locator('#conn').getAttribute('data-state'), { timeout: 10_000 }).toBe('live');
      expect(pageErrors).toEqual([]);

      // A click on an alert shows its vehicle on the map and selects its row.
      await item(admin, a).locator('.alert-show').click();
      await expect.poll(() => row(admin, a.vehicleId).getAttribute('aria-selected')).toBe('true');
      expect(await row(admin, a.vehicleId).getAttribute('class')).toContain('selected');
      await expect.poll(() => admin.locator('.leaflet-popup .vm-tip b').textContent()).toBe(plateA);

      // Phone width with the alerts open: the vehicle list still has room and shows its rows.
      await admin.setViewportSize({ width: 390, height: 844 });
      await expect.poll(async () => (await admin.locator('.list').boundingBox())?.height ?? 0).toBeGreaterThan(120);
      expect(await admin.locator('#alerts').getAttribute('open')).not.toBeNull();
      expect(await row(admin, a.vehicleId).isVisible()).toBe(true);
      await shot(admin, 'phone-live-map');
      await admin.setViewportSize({ width: 1280, height: 800 });

      // A viewer of A's department: the listed alert (loaded, not pushed), and the API's 403 message on Acknowledge.
      const viewerRes = await t.api('/api/v1/api-keys', {
        method: 'POST',
        json: { name: 'alerts viewer A', role: 'viewer', departmentId: a.departmentId },
      });
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

      // B's, on the alerts screen (in Indonesian): its text in Indonesian words, and Konfirmasi.
      await admin.locator('.top .lang-switch').click();
      await goTo(admin, '#/alerts?unacknowledged=true');
      const rowB = admin.locator(`.alerts-table tr[data-kind="speeding"]`).filter({ hasText: plateB });
      await expect.poll(() => rowB.count(), { timeout: 10_000 }).toBe(1);
      expect(await rowB.textContent()).toContain(`${plateB} melaju 90 km/j (batas 60)`);
      await shot(admin, 'alerts');
      await rowB.getByRole('button', { name: 'Konfirmasi' }).click();
      await expect.poll(() => rowB.textContent(), { timeout: 5_000 }).toContain('Dikonfirmasi');
      const [ackedB] = await alertsOf(b.vehicleId);
      expect(ackedB!.acknowledgedAt).not.toBeNull();
      expect(await item(viewer, a).locator('.alert-error').isVisible()).toBe(true);
    });

    it('lists a large fleet with only the rows in view, and a vehicle scrolled to shows its newest figures', async () => {
      // A fleet of 600 made up by the test: the page's live feed answers from here, not from the server.
      const N = 600;
      const id = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      const fix = (i: number, speedKmh: number) => ({
        vehicleId: id(i),
        plateNumber: `DH ${String(i).padStart(4, '0')} ZZ`,
        departmentId: a.departmentId,
        at: new Date().toISOString(),
        lat: -10.17 + (i % 30) * 0.002,
        lon: 123.6 + Math.floor(i / 30) * 0.002,
        speedKmh,
        headingDeg: 90,
        ignition: true,
      });
      let feed: WebSocketRoute | undefined;
      const page = await openPage(`/#key=${encodeURIComponent(t.adminKey)}`, {
        beforeLoad: (p) =>
          p.routeWebSocket(/\/api\/v1\/live/, (ws) => {
            feed = ws;
            ws.send(JSON.stringify({ type: 'snapshot', vehicles: Array.from({ length: N }, (_, i) => fix(i, 20)) }));
          }),
      });
      await expect.poll(() => page.locator('#counts li[data-status="moving"] b').textContent(), { timeout: 10_000 }).toBe(String(N));
      const shown = await visibleRows(page).count();
      expect(shown).toBeGreaterThan(5);
      expect(shown).toBeLessThan(60);
      // A screen reader hears where a row is in the whole list, not in the rows that exist.
      expect(await visibleRows(page).first().getAttribute('aria-setsize')).toBe(String(N));
      expect(await visibleRows(page).first().getAttribute('aria-posinset')).toBe('1');
      // The last vehicle changes speed while out of view; scrolled to, its row says so.
      feed!.send(JSON.stringify({ type: 'positions', positions: [fix(N - 1, 47)] }));
      await page.locator('.list').evaluate((el) => ((el as unknown as { scrollTop: number }).scrollTop = 1e6));
      await expect
        .poll(
          () =>
            row(page, id(N - 1))
              .locator('.speed')
              .textContent(),
          { timeout: 5_000 },
        )
        .toBe('47');
      expect(
        await row(page, id(N - 1))
          .locator('.plate')
          .textContent(),
      ).toBe(`DH 0${N - 1} ZZ`);
      // Rows that came into view with the scroll show their own vehicle (the row elements are reused).
      for (const i of [N - 2, N - 10]) {
        expect(await row(page, id(i)).locator('.plate').textContent()).toBe(`DH 0${i} ZZ`);
        expect(await row(page, id(i)).locator('.speed').textContent()).toBe('20');
      }
      expect(await row(page, id(0)).count()).toBe(0);
      expect(await visibleRows(page).count()).toBeLessThan(60);
      // The keyboard goes through the whole list, not only the rows that exist: Home, End, Page Down.
      await page.locator('#vehicle-list').focus();
      const active = () => page.locator('#vehicle-list').getAttribute('aria-activedescendant');
      await page.keyboard.press('Home');
      expect(await active()).toBe(`vrow-${id(0)}`);
      expect(await row(page, id(0)).getAttribute('aria-posinset')).toBe('1');
      await page.keyboard.press('End');
      expect(await active()).toBe(`vrow-${id(N - 1)}`);
      expect(await row(page, id(N - 1)).getAttribute('aria-posinset')).toBe(String(N));
      await page.keyboard.press('Home');
      await page.keyboard.press('PageDown');
      const paged = Number((await active())!.slice(-12));
      expect(paged).toBeGreaterThan(3);
      expect(await row(page, id(paged)).isVisible()).toBe(true);
      // The filter narrows the list to the matching plates, in plate order.
      await page.fill('#filter', '005');
      await expect.poll(() => visibleRows(page).count()).toBe(11); // 0050-0059 and 0005
      await shot(page, 'live-map-600');
    });

    it('lets an admin exempt a vehicle from outside-hours alerts on the settings screen', async () => {
      const page = await openPage(`/#key=${encodeURIComponent(t.adminKey)}`);
      await goTo(page, '#/settings');
      const card = page.locator(`form.rules[data-department-id="${b.departmentId}"]`);
      await expect.poll(() => card.count(), { timeout: 10_000 }).toBe(1);
      await card.locator(`input[data-vehicle-id="${b.vehicleId}"]`).check();
      // This service's default is every day, all day: the department gets Monday to Saturday, 07:00-16:00.
      await card.locator('.own-hours').check();
      await card.locator('input[data-day="7"]').uncheck();
      await card.locator('input.start').fill('07:00');
      await card.locator('input.end').fill('16:00');
      await card.getByRole('button', { name: 'Save' }).click();
      await expect.poll(() => card.locator('.ok').textContent(), { timeout: 5_000 }).toBe('Saved.');
      const rules = (await (await t.api('/api/v1/alert-rules')).json()) as {
        departments: Array<{ departmentId: string; workingHours: unknown; exemptVehicleIds: string[] }>;
      };
      expect(rules.departments.find((d) => d.departmentId === b.departmentId)).toEqual({
        departmentId: b.departmentId,
        workingHours: { weekdays: [1, 2, 3, 4, 5, 6], start: '07:00', end: '16:00' },
        exemptVehicleIds: [b.vehicleId],
      });
      await shot(page, 'settings');
    });
  },
);
