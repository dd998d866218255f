/**
 * The web app's finance screens in a real browser (Debian's Chromium through
 * playwright-core) against a real test service: the savings table against the API's
 * totals, the reconciliation's flag reasons in both languages with the link to the
 * vehicle's history, a purchase recorded through the form and voided, the fuel-card CSV
 * import (checked, then imported), downloads fetched with the key in the Authorization
 * header, the print layout, a department key, a voucher issued, the price and station
 * registers, a month closed, and the printed savings and reconciliation (a PDF from
 * Chromium, read back with poppler's pdftotext: page numbers, heading, totals, signatures).
 * Screenshots and the PDFs go to tests/e2e/screenshots/.
 * Skipped when /usr/bin/chromium is missing (`apt-get install -y chromium`); the print test
 * also needs pdftotext (`apt-get install -y poppler-utils`, as .ci/run does).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { telemetryTopic } from '../../src/domain/topics.js';
import { connectDevice, registerVehicleWithDevice, startTestService, waitFor, type TestService } from '../support/service.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const hasPdftotext = spawnSync('pdftotext', ['-v']).status === 0;
const SHOTS = join(import.meta.dirname, 'screenshots');
const WITA_MS = 8 * 3_600_000;

type Device = Awaited<ReturnType<typeof registerVehicleWithDevice>>;
type Totals = Record<string, number>;
type Savings = {
  vehicles: Array<{ vehicleId: string; plateNumber: string; departmentId: string } & Totals>;
  departments: Array<{ departmentId: string } & Totals>;
  totals: Totals;
};

let t: TestService;
let browser: Browser;
let base: string;
let a: Device;
let b: Device;
let financeKey: string;
const plateA = 'DH 3101 FA';
const plateB = 'DH 3202 FB';
const contexts: BrowserContext[] = [];
const apiUrls: string[] = [];
/** The purchases' time: two hours ago; the test asks for that time's month (WITA), so it holds on any day. */
const boughtMs = Date.now() - 2 * 3_600_000;
const boughtAt = new Date(boughtMs).toISOString();
const witaLocal = new Date(boughtMs + WITA_MS).toISOString().slice(0, 16); // YYYY-MM-DDTHH:MM
const month = witaLocal.slice(0, 7);
const day = witaLocal.slice(0, 10);

/** Rupiah as the page writes them: Rp 1.234.567. */
const rupiah = (n: number) => `${n < 0 ? '-' : ''}Rp ${new Intl.NumberFormat('id-ID').format(Math.abs(n))}`;
/** Litres as the English page writes them: 1,234.5. */
const litresEn = (n: number) => new Intl.NumberFormat('en', { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(n);
const MONEY = ['baselineIdr', 'purchasedIdr', 'savingsIdr'];
const LITRES = ['baselineLitres', 'purchasedLitres', 'usedLitres', 'unexplainedLitres'];

async function json<T>(path: string, key?: string): Promise<T> {
  const res = await t.api(path, key ? { key } : {});
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
const savingsApi = (key?: string) => json<Savings>(`/api/v1/reports/savings?month=${month}`, key);

async function buy(vehicleId: string, litres: number, amountIdr: number, fuelType: string, receiptNo: string): Promise<string> {
  const res = await t.api('/api/v1/fuel-purchases', {
    method: 'POST',
    key: financeKey,
    json: { vehicleId, at: boughtAt, litres, amountIdr, fuelType, receiptNo },
  });
  if (res.status !== 201) throw new Error(`purchase: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

async function newKey(name: string, role: string, departmentId?: string): Promise<string> {
  const res = await t.api('/api/v1/api-keys', { method: 'POST', json: { name, role, ...(departmentId ? { departmentId } : {}) } });
  return ((await res.json()) as { key: string }).key;
}

/** A fresh browser profile that may reach the test server only, signed in with `key`, in English unless `lang` says otherwise. */
async function openPage(key: string, hash: string, lang: 'en' | 'id' = 'en'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'Asia/Makassar', acceptDownloads: true });
  contexts.push(context);
  const origin = new URL(base).origin;
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.origin !== origin) return route.abort('blockedbyclient');
    if (url.pathname.startsWith('/api/')) apiUrls.push(url.href);
    return route.continue();
  });
  await context.addInitScript({ content: `localStorage.getItem('armada.lang') ?? localStorage.setItem('armada.lang', '${lang}')` });
  const page = await context.newPage();
  await page.goto(`${base}/web/#key=${encodeURIComponent(key)}`);
  await page.locator('#app-view').waitFor();
  await goTo(page, hash);
  return page;
}

const goTo = (page: Page, hash: string) => page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const cellText = (page: Page, selector: string, col: string) => page.locator(`${selector} [data-col="${col}"]`).textContent();

describe.skipIf(!hasChromium)(
  hasChromium ? 'web app finance screens (Chromium)' : `web app finance: skipped, needs Chromium at ${CHROMIUM}`,
  () => {
    let mismatchId: string;

    beforeAll(async () => {
      mkdirSync(SHOTS, { recursive: true });
      t = await startTestService();
      base = t.services.httpUrl!;
      a = await registerVehicleWithDevice(t, { plate: plateA });
      b = await registerVehicleWithDevice(t, { plate: plateB });
      financeKey = await newKey('finance', 'finance');
      const price = await t.api('/api/v1/fuel-prices', {
        method: 'POST',
        key: financeKey,
        json: { fuelType: 'pertalite', priceIdrPerLitre: 10_000, validFrom: '2020-01-01' },
      });
      expect(price.status).toBe(201);
      await buy(a.vehicleId, 30, 300_000, 'pertalite', 'R-A1');
      // A pertalite car filled with pertamax: flagged fuel_type_mismatch.
      mismatchId = await buy(a.vehicleId, 20, 260_000, 'pertamax', 'R-A2');
      await buy(b.vehicleId, 25, 250_000, 'pertalite', 'R-B1');
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
      });
    });

    afterAll(async () => {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser?.close();
      await t?.close();
      // No key in any address the pages asked for.
      for (const url of apiUrls) expect(url).not.toMatch(/key=|token=|test-admin-/);
    });

    it('shows the savings the API reports: each vehicle, each department and the totals, in rupiah', async () => {
      const page = await openPage(t.adminKey, `#/finance/savings?month=${month}`);
      expect(await page.locator('#nav-finance').isVisible()).toBe(true);
      await page.locator('#savings-total').waitFor();
      const api = await savingsApi();
      expect(api.totals.purchasedIdr).toBe(810_000);
      for (const col of MONEY) expect(await cellText(page, '#savings-total', col)).toBe(rupiah(api.totals[col]!));
      for (const col of LITRES) expect(await cellText(page, '#savings-total', col)).toBe(litresEn(api.totals[col]!));
      for (const v of api.vehicles) {
        const row = `#savings-table tr[data-vehicle-id="${v.vehicleId}"]`;
        expect(await page.locator(`${row} th`).textContent()).toBe(v.plateNumber);
        for (const col of MONEY) expect(await cellText(page, row, col)).toBe(rupiah(v[col]!));
      }
      for (const d of api.departments) {
        const sub = `#savings-table tbody[data-department-id="${d.departmentId}"] tr.subtotal`;
        expect(await cellText(page, sub, 'purchasedIdr')).toBe(rupiah(d.purchasedIdr!));
      }
      await shot(page, 'finance-savings');

      // The year's report too, with the same figures for the year.
      await page.selectOption('#savings-mode', 'year');
      await page.fill('#savings-year', month.slice(0, 4));
      await page.click('form.toolbar button[type="submit"]');
      await page.waitForFunction("location.hash.includes('year=')");
      const year = await json<Savings>(`/api/v1/reports/savings?year=${month.slice(0, 4)}`);
      await expect.poll(() => cellText(page, '#savings-total', 'purchasedIdr')).toBe(rupiah(year.totals.purchasedIdr!));
    });

    it('downloads the CSV and the XLSX with the key in the Authorization header, never in the address', async () => {
      const page = await openPage(t.adminKey, `#/finance/savings?month=${month}`);
      await page.locator('#savings-total').waitFor();
      const csvRequest = page.waitForRequest((r) => r.url().includes('/reports/savings') && r.url().includes('format=csv'));
      const download = page.waitForEvent('download');
      await page.click('#savings-csv');
      const req = await csvRequest;
      expect(req.headers().authorization).toBe(`Bearer ${t.adminKey}`);
      expect(req.url()).not.toContain(t.adminKey);
      const file = await (await download).path();
      const csv = readFileSync(file, 'utf8');
      expect(csv).toContain(plateA);
      expect(csv).toContain(plateB);

      const xlsxRequest = page.waitForRequest((r) => r.url().includes('format=xlsx'));
      const xlsx = page.waitForEvent('download');
      await page.click('#savings-xlsx');
      expect((await xlsxRequest).headers().authorization).toBe(`Bearer ${t.adminKey}`);
      expect((await xlsx).suggestedFilename()).toMatch(/\.xlsx$/);
      // An XLSX is a ZIP: it starts with PK.
      expect(
        readFileSync(await (await xlsx).path())
          .subarray(0, 2)
          .toString(),
      ).toBe('PK');
    });

    it("shows each purchase's flags with their reason, links to the history at the purchase time, and switches language", async () => {
      const page = await openPage(t.adminKey, `#/finance/reconciliation?month=${month}`);
      const row = page.locator(`#recon-table tr[data-purchase-id="${mismatchId}"]`);
      await row.waitFor();
      const reason = row.locator('[data-flag="fuel_type_mismatch"] .flag-reason');
      expect(await reason.textContent()).toBe("The fuel bought is not the vehicle's fuel type.");
      expect(await page.locator('#recon-table tbody tr').count()).toBe(3);
      const link = row.locator('th a');
      expect(await link.getAttribute('href')).toBe(`#/vehicle/${a.vehicleId}?from=${day}&to=${day}`);
      await shot(page, 'finance-reconciliation');

      // The print layout: the report with its heading and signature block, no navigation.
      await page.emulateMedia({ media: 'print' });
      expect(await page.locator('header.top').isVisible()).toBe(false);
      expect(await page.locator('.print-head').isVisible()).toBe(true);
      expect(await page.locator('.print-head').textContent()).toContain(month);
      expect(await page.locator('.signatures').isVisible()).toBe(true);
      await shot(page, 'finance-reconciliation-print');
      await page.emulateMedia({ media: 'screen' });

      await page.locator('header .lang-switch').click();
      await expect.poll(() => reason.textContent()).toBe('Jenis BBM bukan jenis BBM kendaraan.');
      expect(await page.locator('.tabs a[data-tab="reconciliation"]').textContent()).toBe('Rekonsiliasi');
      expect(await page.locator('#nav-finance').textContent()).toBe('Keuangan');
      await shot(page, 'finance-reconciliation-id');

      await row.locator('th a').click();
      await page.waitForFunction(`location.hash.startsWith('#/vehicle/${a.vehicleId}')`);
    });

    it('records a purchase through the form, lists it, and a void takes it out of the totals', async () => {
      const before = await savingsApi();
      const page = await openPage(financeKey, '#/finance/purchases');
      await page.locator('#purchases-table').waitFor();
      await page.selectOption('#pf-vehicle', b.vehicleId);
      await page.fill('#pf-at', witaLocal);
      await page.fill('#pf-litres', '10.5');
      await page.fill('#pf-amount', '105000');
      await page.selectOption('#pf-fuel', 'pertalite');
      await page.fill('#pf-receipt', 'R-FORM-1');
      await page.click('#purchase-form button[type="submit"]');
      await expect.poll(() => page.locator('#pf-message').textContent()).toContain('Rp 105.000');
      const row = page.locator('#purchases-table tbody tr', { hasText: 'R-FORM-1' });
      await row.waitFor();
      expect(await row.locator('th').textContent()).toBe(plateB);
      const added = await savingsApi();
      expect(added.totals.purchasedIdr).toBe(before.totals.purchasedIdr! + 105_000);
      await expect.poll(() => page.locator('#purchases-standing').textContent()).toContain(rupiah(810_000 + 105_000));
      await shot(page, 'finance-purchases');

      await row.locator('button.void').click();
      await page.fill('#void-reason', 'entered twice');
      await page.click('.void-confirm');
      await expect.poll(() => row.getAttribute('class')).toBe('voided');
      expect(await row.locator('td.status').textContent()).toContain('voided: entered twice');
      await expect.poll(() => page.locator('#purchases-standing').textContent()).toContain(rupiah(810_000));
      const after = await savingsApi();
      expect(after.totals.purchasedIdr).toBe(before.totals.purchasedIdr);

      // The savings screen shows the total without the voided purchase.
      await goTo(page, `#/finance/savings?month=${month}`);
      await expect.poll(() => cellText(page, '#savings-total', 'purchasedIdr')).toBe(rupiah(after.totals.purchasedIdr!));
    });

    it('imports a fuel-card CSV: a check with the per-row report first, then the import', async () => {
      const page = await openPage(financeKey, '#/finance/purchases');
      await page.locator('#import-file').waitFor();
      const local = witaLocal.replace('T', ' ');
      const csv =
        'plateNumber,at,litres,amountIdr,fuelType,receiptNo\n' +
        `${plateA},${local},12.5,125000,pertalite,CARD-1\n` +
        `DH 0000 XX,${local},10,100000,pertalite,CARD-2\n`;
      await page.setInputFiles('#import-file', { name: 'statement.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
      const checkRequest = page.waitForRequest((r) => r.url().includes('/fuel-purchases/import'));
      await page.click('#import-check');
      const req = await checkRequest;
      expect(req.headers()['content-type']).toBe('text/csv');
      expect(req.url()).toContain('dryRun=true');
      await page.locator('#import-rows').waitFor();
      expect(await page.locator('#import-rows tr[data-line="2"]').getAttribute('data-status')).toBe('would_create');
      expect(await page.locator('#import-rows tr[data-line="3"]').getAttribute('data-status')).toBe('invalid');
      expect((await json<{ total: number }>('/api/v1/fuel-purchases?kind=purchase')).total).toBe(4);
      await shot(page, 'finance-import-check');

      await page.click('#import-run');
      await expect.poll(() => page.locator('#import-rows tr[data-line="2"]').getAttribute('data-status')).toBe('created');
      expect(await page.locator('#import-summary').textContent()).toContain('1 new');
      expect((await json<{ total: number }>('/api/v1/fuel-purchases?kind=purchase')).total).toBe(5);
      await page.locator('#purchases-table tbody tr', { hasText: 'CARD-1' }).waitFor();
    });

    it("shows a department key its department's finance only; a viewer has no finance entry", async () => {
      const managerA = await newKey('manager A', 'manager', a.departmentId);
      const page = await openPage(managerA, `#/finance/savings?month=${month}`);
      await page.locator('#savings-total').waitFor();
      expect(await page.locator('#nav-finance').isVisible()).toBe(true);
      expect(await page.locator('#savings-department').count()).toBe(0);
      const api = await savingsApi(managerA);
      expect(api.vehicles.map((v) => v.plateNumber)).toEqual([plateA]);
      expect(await page.locator('#savings-table tr.vehicle-row').count()).toBe(1);
      expect(await page.locator(`#savings-table tr[data-vehicle-id="${a.vehicleId}"]`).count()).toBe(1);
      expect(await cellText(page, '#savings-total', 'purchasedIdr')).toBe(rupiah(api.totals.purchasedIdr!));
      await shot(page, 'finance-savings-department');

      await goTo(page, `#/finance/reconciliation?month=${month}`);
      await page.locator('#recon-table').waitFor();
      const plates = await page.locator('#recon-table tbody th a').allTextContents();
      expect(plates.length).toBeGreaterThan(0);
      expect(new Set(plates)).toEqual(new Set([plateA]));

      // A manager reads: no form, no void.
      await goTo(page, '#/finance/purchases');
      await page.locator('#purchases-table').waitFor();
      expect(await page.locator('#purchase-form').count()).toBe(0);
      expect(await page.locator('button.void').count()).toBe(0);

      const viewer = await openPage(await newKey('viewer', 'viewer'), '#/map');
      await viewer.locator('#nav').waitFor();
      expect(await viewer.locator('#nav-finance').isVisible()).toBe(false);
    });
    it('issues a voucher, lists the price and station registers, and closes a finished month', async () => {
      // A tank level now (20 of 50 L), so the voucher has a tank to be measured against.
      const client = await connectDevice(t.deviceMqttUrl, a.deviceId, a.secret);
      const reading = { ts: new Date().toISOString(), lat: -10.17, lon: 123.6, speedKmh: 0, ignition: false, fuelLitres: 20 };
      await client.publishAsync(telemetryTopic(a.deviceId), JSON.stringify(reading), { qos: 1 });
      await client.endAsync();
      await waitFor(async () => {
        const latest = (await (await t.api('/api/v1/positions/latest')).json()) as Array<{ vehicleId: string }>;
        return latest.some((p) => p.vehicleId === a.vehicleId);
      }, "A's tank level");
      const station = await t.api('/api/v1/fuel-stations', {
        method: 'POST',
        key: financeKey,
        json: { code: '54.851.01', name: 'SPBU Oebobo', lat: -10.16, lon: 123.61 },
      });
      expect(station.status).toBe(201);

      const page = await openPage(financeKey, '#/finance/vouchers');
      await page.locator('#voucher-form').waitFor();
      await page.selectOption('#vf-vehicle', a.vehicleId);
      await page.fill('#vf-litres', '10');
      await page.click('#voucher-form button[type="submit"]');
      await expect.poll(() => page.locator('#vf-message').textContent()).toMatch(/^Voucher \S+ for DH 3101 FA: 10\.0 L\.$/);
      const vouchers = await json<Array<{ id: string; code: string; grantedLitres: number }>>('/api/v1/fuel-vouchers');
      expect(vouchers.map((v) => v.grantedLitres)).toEqual([10]);
      const voucherRow = page.locator(`#vouchers-table tr[data-voucher-id="${vouchers[0]!.id}"]`);
      await voucherRow.waitFor();
      expect(await voucherRow.locator('code').textContent()).toBe(vouchers[0]!.code);
      expect(await voucherRow.getAttribute('data-status')).toBe('open');
      await shot(page, 'finance-vouchers');

      await goTo(page, '#/finance/registers');
      await page.locator('#prices-table').waitFor();
      expect(await page.locator('#prices-table tbody td.num').allTextContents()).toEqual(['Rp 10.000']);
      await page.locator('#stations-table').waitFor();
      const stationCells = await page.locator('#stations-table tbody td').allTextContents();
      expect(stationCells).toEqual(['54.851.01', 'SPBU Oebobo', '-10.16000, 123.61000']);
      await shot(page, 'finance-registers');

      // The month before the current one (WITA) is over: it may be closed.
      const [y, m] = new Date(Date.now() + WITA_MS).toISOString().slice(0, 7).split('-').map(Number) as [number, number];
      const last = m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
      await goTo(page, '#/finance/closings');
      await page.locator('#closing-form').waitFor();
      expect(await page.locator('#closings-table').count()).toBe(0);
      await page.fill('#closing-month', last);
      await page.click('#closing-form button[type="submit"]');
      await expect.poll(() => page.locator('#closing-message').textContent()).toBe(`${last} is closed.`);
      await page.locator(`#closings-table tr[data-month="${last}"]`).waitFor();
      expect((await json<Array<{ month: string }>>('/api/v1/month-closings')).map((c) => c.month)).toEqual([last]);
      // Closing it again is refused, and the page says so.
      await page.click('#closing-form button[type="submit"]');
      await expect.poll(() => page.locator('#closing-message').getAttribute('role')).toBe('alert');
      await shot(page, 'finance-closings');
    });

    it.skipIf(!hasPdftotext)(
      hasPdftotext
        ? 'prints the savings and the reconciliation with title, period, department, totals, signatures and page numbers (PDF)'
        : 'printing: skipped, needs pdftotext (apt-get install -y poppler-utils)',
      async () => {
        // A department of 40 vehicles: its savings take more than one printed page.
        const dept = (await (
          await t.api('/api/v1/departments', { method: 'POST', json: { code: 'PRN', name: 'Dinas Arsip Cetak' } })
        ).json()) as { id: string };
        for (let i = 0; i < 40; i++) {
          const res = await t.api('/api/v1/vehicles', {
            method: 'POST',
            json: {
              plateNumber: `DH ${String(5000 + i)} PR`,
              departmentId: dept.id,
              kind: 'car',
              fuelType: 'pertalite',
              tankCapacityLitres: 50,
              ratedLitresPer100Km: 10,
              idleLitresPerHour: 0.8,
              monthlyAllocationLitres: 200,
            },
          });
          expect(res.status).toBe(201);
        }
        /** The page printed as Chromium prints it (the page's @page rules: A4 landscape, margin boxes), as text, page by page. */
        const printed = async (page: Page, name: string): Promise<string[]> => {
          const file = join(SHOTS, `${name}.pdf`);
          await page.pdf({ path: file, preferCSSPageSize: true });
          const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
          return text.split('\f').filter((p) => p.trim() !== '');
        };

        const page = await openPage(t.adminKey, `#/finance/savings?month=${month}&departmentId=${dept.id}`);
        await page.locator('#savings-total').waitFor();
        expect(await page.locator('#savings-table tr.vehicle-row').count()).toBe(40);
        const api = await json<Savings>(`/api/v1/reports/savings?month=${month}&departmentId=${dept.id}`);
        const pages = await printed(page, 'finance-savings-print');
        expect(pages.length).toBeGreaterThanOrEqual(2);
        // Each page numbered "n / total" at the bottom right (pdftotext drops the spaces), the table's header on each.
        pages.forEach((text, i) => {
          expect(text).toMatch(new RegExp(`\\b${i + 1} ?/ ?${pages.length}\\s*$`));
          expect(text).toContain('Allocation Rp');
        });
        const first = pages[0]!;
        const last = pages.at(-1)!;
        expect(first).toContain('Fuel savings');
        expect(first).toMatch(new RegExp(`Period: ${month}\\s+· Department: Dinas Arsip Cetak`));
        expect(first).toMatch(/Printed \d/);
        expect(api.totals.baselineIdr).toBeGreaterThan(0);
        expect(last).toContain(rupiah(api.totals.baselineIdr!));
        expect(last).toMatch(/Prepared by\s+Checked by\s+Approved by/);
        // The plates all there, once each; no navigation, filters or buttons.
        const all = pages.join('\n');
        for (let i = 0; i < 40; i++) expect(all.split(`DH ${5000 + i} PR`)).toHaveLength(2);
        for (const screenOnly of ['Live map', 'Download CSV', 'Show']) expect(all).not.toContain(screenOnly);

        // The reconciliation of A's department: one page, numbered, with its title, department and signatures.
        await goTo(page, `#/finance/reconciliation?month=${month}&departmentId=${a.departmentId}`);
        await page.locator('#recon-table').waitFor();
        const recon = await printed(page, 'finance-reconciliation-print');
        expect(recon).toHaveLength(1);
        expect(recon[0]).toMatch(/\b1 ?\/ ?1\s*$/);
        expect(recon[0]).toContain('Fuel purchase reconciliation');
        expect(recon[0]).toMatch(new RegExp(`Period: ${month}\\s+· Department: Dinas Test`));
        const reconApi = await json<{ purchases: Array<{ amountIdr: number }> }>(
          `/api/v1/reconciliation?month=${month}&departmentId=${a.departmentId}`,
        );
        expect(recon[0]).toMatch(new RegExp(`Total\\s+[\\d.,]+\\s+${rupiah(reconApi.purchases.reduce((sum, p) => sum + p.amountIdr, 0))}`));
        expect(recon[0]).toContain(plateA);
        expect(recon[0]).not.toContain(plateB);
        expect(recon[0]).toMatch(/Prepared by\s+Checked by\s+Approved by/);
      },
    );
  },
);
