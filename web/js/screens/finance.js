// Finance: savings (a month or a year, by department and vehicle, in rupiah), the month's
// reconciliation (each purchase with its status and flags, the refuels without a receipt),
// the purchases ledger (paged, void with a reason, a form to record one, a fuel-card
// CSV import checked first), vouchers (issue, list), the price and station registers, and
// closing a month. Savings and reconciliation print for signing (style.css @media print).
// The API decides who may do what; the page only hides what the role cannot use.

import { errorText, query } from '../api.js';
import { fmt, t, todayWita, witaDayOf } from '../i18n.js';
import { href, navigate } from '../router.js';
import { html, render, useEffect, useState } from '../ui.js';
import { ErrorLine } from './common.js';

const TABS = ['savings', 'reconciliation', 'purchases', 'vouchers', 'registers', 'closings'];
const WRITERS = new Set(['admin', 'finance']);
const FUELS = ['pertalite', 'pertamax', 'pertamax_turbo', 'solar', 'dexlite', 'pertamina_dex'];
const PAGE = 50;

const currentMonth = () => todayWita().slice(0, 7);
const litres = (x) => fmt.n1(x);
const deptOptions = (ref) => [...ref.departments].sort((a, b) => a[1].localeCompare(b[1]));

/** Loads `path` whenever it changes; `reload()` fetches it again. */
function useLoad(api, path) {
  const [state, setState] = useState({ data: null, error: '' });
  const [n, setN] = useState(0);
  useEffect(() => {
    let cancelled = false;
    setState({ data: null, error: '' });
    api
      .get(path)
      .then((data) => !cancelled && setState({ data, error: '' }))
      .catch((err) => !cancelled && setState({ data: null, error: t('err.load', { why: errorText(err) }) }));
    return () => {
      cancelled = true;
    };
  }, [path, n]);
  return { ...state, reload: () => setN((x) => x + 1) };
}

/** The outcome of a form: a status line, or an alert when it failed. */
function Message({ id, msg }) {
  if (!msg.text) return null;
  return html`<p id=${id} class=${msg.error ? 'error' : 'ok'} role=${msg.error ? 'alert' : 'status'}>${msg.text}</p>`;
}

function DepartmentField({ depts: ref, value, onChange, id }) {
  if (ref.departments.size <= 1) return null;
  return html`<label class="field"><span>${t('fin.department')}</span>
    <select id=${id} value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
      <option value="">${t('fin.allDepartments')}</option>
      ${deptOptions(ref).map(([id, name]) => html`<option value=${id}>${name}</option>`)}
    </select></label>`;
}

/** What the printout says above the table: title, period, department, when it was printed. */
function PrintHead({ title, period, department }) {
  return html`<div class="print-only print-head">
    <h1>${title}</h1>
    <p>${t('fin.period')}: <strong>${period}</strong> · ${t('fin.department')}: <strong>${department}</strong></p>
    <p class="small">${t('fin.printed', { time: fmt.timeShort(new Date().toISOString()) })}</p>
  </div>`;
}

function SignatureBlock() {
  return html`<div class="signatures print-only" aria-hidden="true">
    ${['fin.preparedBy', 'fin.checkedBy', 'fin.approvedBy'].map(
      (k) => html`<div class="signature"><p>${t(k)}</p><div class="sign-line"></div><p class="small">${t('fin.nameDate')}</p></div>`,
    )}
  </div>`;
}

// ---------------------------------------------------------------- savings

const SAVINGS_COLS = [
  ['baselineLitres', litres],
  ['baselineIdr', fmt.rupiah],
  ['purchasedLitres', litres],
  ['purchasedIdr', fmt.rupiah],
  ['usedLitres', litres],
  ['unexplainedLitres', litres],
  ['savingsIdr', fmt.rupiah],
];

function Savings({ ctx, route }) {
  const { api, ref } = ctx;
  const p = route.params;
  const byYear = Boolean(p.year);
  const month = p.month ?? currentMonth();
  const year = p.year ?? currentMonth().slice(0, 4);
  const departmentId = p.departmentId ?? '';
  const [form, setForm] = useState({ mode: byYear ? 'year' : 'month', month, year, dept: departmentId });
  const [error, setError] = useState('');
  const apiParams = { ...(byYear ? { year } : { month }), departmentId: departmentId || undefined };
  const { data, error: loadError } = useLoad(api, `/reports/savings${query(apiParams)}`);

  function submit(event) {
    event.preventDefault();
    navigate('finance', {
      tab: 'savings',
      ...(form.mode === 'year' ? { year: form.year } : { month: form.month }),
      departmentId: form.dept,
    });
  }
  async function download(format) {
    setError('');
    try {
      await api.download(`/reports/savings${query({ ...apiParams, format })}`, `savings-${byYear ? year : month}.${format}`);
    } catch (err) {
      setError(t('fin.downloadFailed', { why: errorText(err) }));
    }
  }
  const deptName = (id) => ref.departments.get(id) ?? id;
  const period = byYear ? year : month;
  const groups = new Map();
  for (const v of data?.vehicles ?? []) {
    if (!groups.has(v.departmentId)) groups.set(v.departmentId, []);
    groups.get(v.departmentId).push(v);
  }
  const depRow = new Map((data?.departments ?? []).map((d) => [d.departmentId, d]));
  const ordered = [...groups].sort((a, b) => deptName(a[0]).localeCompare(deptName(b[0])));
  const figures = (r) => SAVINGS_COLS.map(([k, f]) => html`<td class="num" data-col=${k}>${f(r?.[k])}</td>`);

  return html`
    <${PrintHead} title=${t('fin.savingsTitle')} period=${period}
      department=${departmentId ? deptName(departmentId) : t('fin.allDepartments')} />
    <form class="toolbar no-print" onSubmit=${submit}>
      <label class="field"><span>${t('fin.period')}</span>
        <select id="savings-mode" value=${form.mode} onChange=${(e) => setForm({ ...form, mode: e.currentTarget.value })}>
          <option value="month">${t('fin.byMonth')}</option><option value="year">${t('fin.byYear')}</option>
        </select></label>
      ${
        form.mode === 'month'
          ? html`<label class="field"><span>${t('fin.month')}</span>
            <input id="savings-month" type="month" value=${form.month} required
              onInput=${(e) => setForm({ ...form, month: e.currentTarget.value })} /></label>`
          : html`<label class="field"><span>${t('fin.year')}</span>
            <input id="savings-year" type="number" min="2000" max="2100" value=${form.year} required
              onInput=${(e) => setForm({ ...form, year: e.currentTarget.value })} /></label>`
      }
      <${DepartmentField} depts=${ref} id="savings-department" value=${form.dept} onChange=${(dept) => setForm({ ...form, dept })} />
      <button type="submit" class="primary">${t('period.show')}</button>
      <button type="button" id="savings-csv" onClick=${() => download('csv')}>${t('fin.csv')}</button>
      <button type="button" id="savings-xlsx" onClick=${() => download('xlsx')}>${t('fin.xlsx')}</button>
      <button type="button" id="savings-print" onClick=${() => window.print()}>${t('fin.print')}</button>
    </form>
    <${ErrorLine} error=${error || loadError} />
    ${data?.partial && html`<p class="muted small">${t('fin.partial')}</p>`}
    ${data?.closed && html`<p class="muted small">${t('fin.closed')}</p>`}
    ${!data && !loadError && html`<p class="empty" role="status">${t('loading')}</p>`}
    ${
      data &&
      (data.vehicles.length === 0
        ? html`<p class="empty">${t('fin.none')}</p>`
        : html`<div class="table-wrap"><table class="grid report savings" id="savings-table">
          <caption class="sr-only">${t('fin.savingsTitle')} ${period}</caption>
          <thead><tr>
            <th scope="col">${t('fin.col.plate')}</th>
            ${SAVINGS_COLS.map(([k]) => html`<th scope="col" class="num">${t(`fin.col.${k}`)}</th>`)}
          </tr></thead>
          ${ordered.map(
            ([id, list]) => html`<tbody data-department-id=${id}>
              <tr class="group"><th scope="rowgroup" colspan=${SAVINGS_COLS.length + 1}>${deptName(id)}</th></tr>
              ${[...list]
                .sort((a, b) => a.plateNumber.localeCompare(b.plateNumber, undefined, { numeric: true }))
                .map(
                  (v) => html`<tr class="vehicle-row" data-vehicle-id=${v.vehicleId}>
                    <th scope="row">${v.plateNumber}</th>${figures(v)}</tr>`,
                )}
              <tr class="subtotal"><th scope="row">${t('fin.total')} ${deptName(id)}</th>${figures(depRow.get(id))}</tr>
            </tbody>`,
          )}
          <tfoot><tr class="total" id="savings-total"><th scope="row">${t('fin.total')}</th>${figures(data.totals)}</tr></tfoot>
        </table></div>
        ${
          data.departments.some((d) => d.budgetIdr != null) &&
          html`<div class="table-wrap"><table class="grid report budgets" id="savings-budgets">
            <thead><tr><th scope="col">${t('fin.department')}</th>
              ${['budgetIdr', 'spentIdr', 'budgetLeftIdr'].map(
                (k) => html`<th scope="col" class="num">${t(`fin.col.${k}`)}</th>`,
              )}</tr></thead>
            <tbody>${data.departments.map(
              (d) => html`<tr><th scope="row">${deptName(d.departmentId)}</th>
                ${['budgetIdr', 'spentIdr', 'budgetLeftIdr'].map((k) => html`<td class="num">${fmt.rupiah(d[k])}</td>`)}</tr>`,
            )}</tbody></table></div>`
        }`)
    }
    <${SignatureBlock} />`;
}

// ---------------------------------------------------------------- reconciliation

/** The vehicle's history on the day of an instant (WITA). */
const historyAt = (vehicleId, iso) => href('history', { id: vehicleId, from: witaDayOf(iso), to: witaDayOf(iso) });

function PurchaseRows({ purchases }) {
  return purchases.map(
    (p) => html`<tr data-purchase-id=${p.purchaseId} data-status=${p.status}>
      <td>${fmt.timeShort(p.at)}</td>
      <th scope="row"><a href=${historyAt(p.vehicleId, p.at)}
        title=${t('fin.openHistory', { plate: p.plateNumber })}>${p.plateNumber}</a></th>
      <td class="num">${litres(p.litres)}</td>
      <td class="num">${fmt.rupiah(p.amountIdr)}</td>
      <td><span class=${`badge status-${p.status}`}>${t(`fin.status.${p.status}`)}</span></td>
      <td><ul class="flags">${p.flags.map(
        (f) => html`<li data-flag=${f.kind}><span class="flag-reason">${t(`flag.${f.kind}`)}</span>
          <span class="muted small"> ${f.detail}</span></li>`,
      )}</ul></td>
    </tr>`,
  );
}

function PurchaseTable({ purchases, id }) {
  return html`<div class="table-wrap"><table class="grid report recon" id=${id}>
    <thead><tr>
      ${['time', 'plate', 'litres', 'amount', 'status', 'flags'].map(
        (k) => html`<th scope="col" class=${k === 'litres' || k === 'amount' ? 'num' : ''}>${t(`fin.col.${k}`)}</th>`,
      )}
    </tr></thead>
    <tbody><${PurchaseRows} purchases=${purchases} /></tbody>
    <tfoot><tr class="total"><th scope="row" colspan="2">${t('fin.total')}</th>
      <td class="num">${litres(purchases.reduce((s, p) => s + p.litres, 0))}</td>
      <td class="num">${fmt.rupiah(purchases.reduce((s, p) => s + p.amountIdr, 0))}</td><td colspan="2"></td></tr></tfoot>
  </table></div>`;
}

function Reconciliation({ ctx, route }) {
  const { api, ref } = ctx;
  const month = route.params.month ?? currentMonth();
  const departmentId = route.params.departmentId ?? '';
  const [form, setForm] = useState({ month, dept: departmentId });
  const { data, error } = useLoad(api, `/reconciliation${query({ month, departmentId: departmentId || undefined })}`);
  const deptName = (id) => ref.departments.get(id) ?? id;
  const plate = (id) => ref.fleet.get(id)?.plateNumber ?? id;

  return html`
    <${PrintHead} title=${t('fin.reconTitle')} period=${month}
      department=${departmentId ? deptName(departmentId) : t('fin.allDepartments')} />
    <form class="toolbar no-print" onSubmit=${(e) => {
      e.preventDefault();
      navigate('finance', { tab: 'reconciliation', month: form.month, departmentId: form.dept });
    }}>
      <label class="field"><span>${t('fin.month')}</span>
        <input id="recon-month" type="month" value=${form.month} required
          onInput=${(e) => setForm({ ...form, month: e.currentTarget.value })} />
      </label>
      <${DepartmentField} depts=${ref} id="recon-department" value=${form.dept} onChange=${(dept) => setForm({ ...form, dept })} />
      <button type="submit" class="primary">${t('period.show')}</button>
      <button type="button" id="recon-print" onClick=${() => window.print()}>${t('fin.print')}</button>
    </form>
    <${ErrorLine} error=${error} />
    ${!data && !error && html`<p class="empty" role="status">${t('loading')}</p>`}
    ${data?.closed && html`<p class="muted small">${t('fin.closed')}</p>`}
    ${
      data &&
      html`${
        data.purchases.length === 0
          ? html`<p class="empty">${t('fin.noPurchases')}</p>`
          : html`<${PurchaseTable}
          id="recon-table" purchases=${data.purchases} />`
      }
        ${
          data.adjustments?.purchases.length > 0 &&
          html`<h2>${t('fin.adjustments', { month: data.adjustments.month })}</h2>
            <${PurchaseTable} id="recon-adjustments" purchases=${data.adjustments.purchases} />`
        }
        <h2>${t('fin.refuelsWithoutReceipt')}</h2>
        ${
          data.refuelsWithoutReceipt.length === 0
            ? html`<p class="empty">${t('fin.noRefuelsWithoutReceipt')}</p>`
            : html`<div class="table-wrap"><table class="grid report" id="recon-unreceipted">
              <thead><tr><th scope="col">${t('fin.col.time')}</th><th scope="col">${t('fin.col.plate')}</th>
                <th scope="col" class="num">${t('fin.col.litres')}</th></tr></thead>
              <tbody>${data.refuelsWithoutReceipt.map(
                (r) => html`<tr data-vehicle-id=${r.vehicleId}><td>${fmt.timeShort(r.at)}</td>
                  <th scope="row"><a href=${historyAt(r.vehicleId, r.at)}>${plate(r.vehicleId)}</a></th>
                  <td class="num">${litres(r.litres)}</td></tr>`,
              )}</tbody></table></div>`
        }`
    }
    <${SignatureBlock} />`;
}

// ---------------------------------------------------------------- purchases

/** A WITA wall-clock time from <input type="datetime-local"> as ISO 8601 with its offset. */
const witaIso = (local) => `${local.length === 16 ? `${local}:00` : local}+08:00`;
const nowWitaLocal = () => new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 16);

function RecordForm({ ctx, onDone }) {
  const { api, ref } = ctx;
  const vehicles = [...ref.fleet.values()].sort((a, b) => a.plateNumber.localeCompare(b.plateNumber, undefined, { numeric: true }));
  const [f, setF] = useState({
    vehicleId: vehicles[0]?.id ?? '',
    at: nowWitaLocal(),
    litres: '',
    amountIdr: '',
    fuelType: vehicles[0]?.fuelType ?? 'pertalite',
    station: '',
    receiptNo: '',
    odometerKm: '',
  });
  const [msg, setMsg] = useState({ text: '', error: false });
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  async function submit(event) {
    event.preventDefault();
    const body = { vehicleId: f.vehicleId, at: witaIso(f.at), litres: f.litres, amountIdr: Number(f.amountIdr), fuelType: f.fuelType };
    if (f.station.trim()) body.station = f.station.trim();
    if (f.receiptNo.trim()) body.receiptNo = f.receiptNo.trim();
    if (f.odometerKm !== '') body.odometerKm = Number(f.odometerKm);
    try {
      const e = await api.post('/fuel-purchases', body);
      const text = t('fin.recorded', { plate: e.plateNumber, litres: litres(e.litres), amount: fmt.rupiah(e.amountIdr) });
      setMsg({ text, error: false });
      setF({ ...f, litres: '', amountIdr: '', receiptNo: '', odometerKm: '' });
      onDone();
    } catch (err) {
      setMsg({ text: t('fin.recordFailed', { why: errorText(err) }), error: true });
    }
  }
  return html`<form id="purchase-form" class="card form-grid" onSubmit=${submit}>
    <h2>${t('fin.record')}</h2>
    <label class="field"><span>${t('fin.vehicle')}</span>
      <select id="pf-vehicle" value=${f.vehicleId} required onChange=${set('vehicleId')}>
        ${vehicles.map((v) => html`<option value=${v.id}>${v.plateNumber}</option>`)}</select></label>
    <label class="field"><span>${t('fin.at')}</span>
      <input id="pf-at" type="datetime-local" value=${f.at} max=${nowWitaLocal()} required onInput=${set('at')} /></label>
    <label class="field"><span>${t('fin.col.litres')}</span>
      <input id="pf-litres" type="number" min="0.001" step="0.001" value=${f.litres} required onInput=${set('litres')} /></label>
    <label class="field"><span>${t('fin.amountIdr')}</span>
      <input id="pf-amount" type="number" min="0" step="1" value=${f.amountIdr} required onInput=${set('amountIdr')} /></label>
    <label class="field"><span>${t('fin.col.fuelType')}</span>
      <select id="pf-fuel" value=${f.fuelType} onChange=${set('fuelType')}>
        ${FUELS.map((x) => html`<option value=${x}>${x}</option>`)}</select>
    </label>
    <label class="field"><span>${t('fin.col.station')}</span><input id="pf-station" value=${f.station} onInput=${set('station')} /></label>
    <label class="field"><span>${t('fin.col.receipt')}</span>
      <input id="pf-receipt" value=${f.receiptNo} onInput=${set('receiptNo')} /></label>
    <label class="field"><span>${t('fin.odometer')}</span>
      <input id="pf-odometer" type="number" min="0" value=${f.odometerKm} onInput=${set('odometerKm')} /></label>
    <button type="submit" class="primary">${t('fin.save')}</button>
    <${Message} id="pf-message" msg=${msg} />
  </form>`;
}

function ImportForm({ ctx, onDone }) {
  const [text, setText] = useState(null);
  const [result, setResult] = useState(null);
  const [error, setError] = useState('');
  async function run(dryRun) {
    setError('');
    try {
      const r = await ctx.api.postCsv(`/fuel-purchases/import${query({ dryRun: dryRun ? 'true' : 'false' })}`, text);
      setResult(r);
      if (!dryRun) onDone();
    } catch (err) {
      setError(t('fin.importFailed', { why: errorText(err) }));
    }
  }
  return html`<section id="import-form" class="card">
    <h2>${t('fin.import')}</h2>
    <label class="field"><span>${t('fin.importFile')}</span>
      <input id="import-file" type="file" accept=".csv,text/csv" onChange=${async (e) => {
        setResult(null);
        const file = e.currentTarget.files?.[0];
        setText(file ? await file.text() : null);
      }} /></label>
    <button type="button" id="import-check" disabled=${!text} onClick=${() => run(true)}>${t('fin.importCheck')}</button>
    <button type="button" id="import-run" class="primary" disabled=${!text || !result?.dryRun}
      onClick=${() => run(false)}>${t('fin.importDo')}</button>
    <${ErrorLine} error=${error} />
    ${
      result &&
      html`<p id="import-summary" role="status">${result.dryRun ? t('fin.importChecked') : t('fin.importDone')}
        ${' '}${t('fin.importSummary', result.summary)}</p>
      <div class="table-wrap"><table class="grid report" id="import-rows">
        <thead><tr><th scope="col">${t('fin.line')}</th><th scope="col">${t('fin.col.receipt')}</th>
          <th scope="col">${t('fin.col.status')}</th><th scope="col">${t('fin.col.flags')}</th></tr></thead>
        <tbody>${result.rows.map(
          (r) => html`<tr data-line=${r.line} data-status=${r.status}><td>${r.line}</td><td>${r.receiptNo ?? '–'}</td>
            <td>${t(`fin.row.${r.status}`)}</td>
            <td>${(r.errors ?? []).map((e) => html`<div class="error">${e.field}: ${e.message}</div>`)}
              ${(r.entryFlags ?? []).map((f) => html`<div>${t(`flag.${f.kind}`)}</div>`)}</td></tr>`,
        )}</tbody></table></div>`
    }
  </section>`;
}

function Purchases({ ctx, route }) {
  const { api } = ctx;
  const offset = Number(route.params.offset ?? 0) || 0;
  const writer = WRITERS.has(ctx.role);
  const { data, error, reload } = useLoad(api, `/fuel-purchases${query({ kind: 'purchase', limit: PAGE, offset })}`);
  const [voiding, setVoiding] = useState(null); // { id, reason }
  const [voidError, setVoidError] = useState('');
  async function doVoid(event) {
    event.preventDefault();
    setVoidError('');
    try {
      await api.post(`/fuel-purchases/${voiding.id}/void`, { reason: voiding.reason });
      setVoiding(null);
      reload();
    } catch (err) {
      setVoidError(t('fin.voidFailed', { why: errorText(err) }));
    }
  }
  const page = (o) => navigate('finance', { tab: 'purchases', offset: o || undefined });
  return html`
    ${!writer && html`<p class="muted small">${t('fin.readOnly')}</p>`}
    <${ErrorLine} error=${error || voidError} />
    ${!data && !error && html`<p class="empty" role="status">${t('loading')}</p>`}
    ${
      data &&
      html`<p id="purchases-standing">${t('fin.standing', {
        count: fmt.n0(data.standing.count),
        litres: litres(data.standing.litres),
        amount: fmt.rupiah(data.standing.amountIdr),
      })}</p>
      <div class="table-wrap"><table class="grid report" id="purchases-table">
        <thead><tr>${['time', 'plate', 'litres', 'amount', 'fuelType', 'station', 'receipt', 'source', 'status'].map(
          (k) => html`<th scope="col" class=${k === 'litres' || k === 'amount' ? 'num' : ''}>${t(`fin.col.${k}`)}</th>`,
        )}${writer && html`<th scope="col">${t('fin.col.actions')}</th>`}</tr></thead>
        <tbody>${data.entries.map(
          (e) => html`<tr data-purchase-id=${e.id} class=${e.voidedBy ? 'voided' : ''}>
            <td>${fmt.timeShort(e.at)}</td>
            <th scope="row"><a href=${historyAt(e.vehicleId, e.at)}>${e.plateNumber}</a></th>
            <td class="num">${litres(e.litres)}</td><td class="num">${fmt.rupiah(e.amountIdr)}</td>
            <td>${e.fuelType}</td><td>${e.station ?? '–'}</td><td>${e.receiptNo ?? '–'}</td><td>${e.source}</td>
            <td class="status">${e.voidedBy ? t('fin.voided', { reason: e.voidedBy.reason ?? '' }) : ''}
              ${e.entryFlags.map((f) => html`<div class="small">${t(`flag.${f.kind}`)}</div>`)}</td>
            ${
              writer &&
              html`<td>${
                e.voidedBy
                  ? ''
                  : voiding?.id === e.id
                    ? html`<form class="void-form" onSubmit=${doVoid}>
                      <label class="sr-only" for="void-reason">${t('fin.voidReason')}</label>
                      <input id="void-reason" placeholder=${t('fin.voidReason')} minlength="3" maxlength="500" required
                        value=${voiding.reason} onInput=${(ev) => setVoiding({ ...voiding, reason: ev.currentTarget.value })} />
                      <button type="submit" class="void-confirm">${t('fin.voidConfirm')}</button>
                      <button type="button" class="link" onClick=${() => setVoiding(null)}>${t('fin.cancel')}</button></form>`
                    : html`<button type="button" class="void"
                      onClick=${() => setVoiding({ id: e.id, reason: '' })}>${t('fin.void')}</button>`
              }</td>`
            }
          </tr>`,
        )}</tbody></table></div>
      <p class="pager">
        <button type="button" id="purchases-prev" disabled=${offset === 0} onClick=${() => page(Math.max(0, offset - PAGE))}>
          ${t('fin.prev')}</button>
        <span>${t('fin.pageOf', { from: data.total ? offset + 1 : 0, to: offset + data.entries.length, total: data.total })}</span>
        <button type="button" id="purchases-next" disabled=${data.nextOffset == null} onClick=${() => page(data.nextOffset)}>
          ${t('fin.next')}</button>
      </p>`
    }
    ${
      writer &&
      html`<div class="finance-forms"><${RecordForm} ctx=${ctx} onDone=${reload} />
      ${!ctx.departmentScoped && html`<${ImportForm} ctx=${ctx} onDone=${reload} />`}</div>`
    }`;
}

// ---------------------------------------------------------------- vouchers, registers, closings

const VOUCHER_ISSUERS = new Set(['admin', 'finance', 'manager']);

function Vouchers({ ctx }) {
  const { api, ref } = ctx;
  const { data, error, reload } = useLoad(api, '/fuel-vouchers');
  const vehicles = [...ref.fleet.values()].sort((a, b) => a.plateNumber.localeCompare(b.plateNumber, undefined, { numeric: true }));
  const [f, setF] = useState({ vehicleId: vehicles[0]?.id ?? '', litres: '' });
  const [msg, setMsg] = useState({ text: '', error: false });
  async function issue(event) {
    event.preventDefault();
    try {
      const v = await api.post('/fuel-vouchers', { vehicleId: f.vehicleId, ...(f.litres ? { litres: f.litres } : {}) });
      const text = t('fin.voucherIssued', { code: v.code, plate: v.plateNumber, litres: litres(v.grantedLitres) });
      setMsg({ text: v.limitedBy ? `${text} ${t(`fin.limitedBy.${v.limitedBy}`)}` : text, error: false });
      reload();
    } catch (err) {
      setMsg({ text: t('fin.voucherFailed', { why: errorText(err) }), error: true });
    }
  }
  return html`
    ${
      VOUCHER_ISSUERS.has(ctx.role) &&
      html`<form id="voucher-form" class="toolbar card" onSubmit=${issue}>
        <label class="field"><span>${t('fin.vehicle')}</span>
          <select id="vf-vehicle" value=${f.vehicleId} onChange=${(e) => setF({ ...f, vehicleId: e.currentTarget.value })}>
            ${vehicles.map((v) => html`<option value=${v.id}>${v.plateNumber}</option>`)}</select></label>
        <label class="field"><span>${t('fin.voucherLitres')}</span>
          <input id="vf-litres" type="number" min="0.001" step="0.001" value=${f.litres}
            onInput=${(e) => setF({ ...f, litres: e.currentTarget.value })} /></label>
        <button type="submit" class="primary">${t('fin.voucherIssue')}</button>
        <${Message} id="vf-message" msg=${msg} />
      </form>`
    }
    <${ErrorLine} error=${error} />
    ${!data && !error && html`<p class="empty" role="status">${t('loading')}</p>`}
    ${
      data &&
      (data.length === 0
        ? html`<p class="empty">${t('fin.noVouchers')}</p>`
        : html`<div class="table-wrap"><table class="grid report" id="vouchers-table">
          <thead><tr>${['code', 'plate', 'granted', 'created', 'expires', 'status'].map(
            (k) => html`<th scope="col" class=${k === 'granted' ? 'num' : ''}>${t(`fin.col.${k}`)}</th>`,
          )}</tr></thead>
          <tbody>${data.map(
            (v) => html`<tr data-voucher-id=${v.id} data-status=${v.status}><td><code>${v.code}</code></td>
              <th scope="row">${v.plateNumber}</th><td class="num">${litres(v.grantedLitres)}</td>
              <td>${fmt.timeShort(v.createdAt)}</td><td>${fmt.timeShort(v.expiresAt)}</td>
              <td>${t(`fin.voucher.${v.status}`)}</td></tr>`,
          )}</tbody></table></div>`)
    }`;
}

function Registers({ ctx }) {
  const prices = useLoad(ctx.api, '/fuel-prices');
  const stations = useLoad(ctx.api, '/fuel-stations');
  return html`
    <h2>${t('fin.prices')}</h2>
    <${ErrorLine} error=${prices.error} />
    ${
      prices.data &&
      (prices.data.length === 0
        ? html`<p class="empty">${t('fin.noPrices')}</p>`
        : html`<div class="table-wrap"><table class="grid report" id="prices-table">
          <thead><tr><th scope="col">${t('fin.col.fuelType')}</th><th scope="col" class="num">${t('fin.col.pricePerLitre')}</th>
            <th scope="col">${t('fin.col.validFrom')}</th><th scope="col">${t('fin.col.priceSource')}</th></tr></thead>
          <tbody>${prices.data.map(
            (p) => html`<tr data-price-id=${p.id}><td>${p.fuelType}</td><td class="num">${fmt.rupiah(p.priceIdrPerLitre)}</td>
              <td>${p.validFrom}</td><td>${p.source ?? '–'}</td></tr>`,
          )}</tbody></table></div>`)
    }
    <h2>${t('fin.stations')}</h2>
    <${ErrorLine} error=${stations.error} />
    ${
      stations.data &&
      (stations.data.length === 0
        ? html`<p class="empty">${t('fin.noStations')}</p>`
        : html`<div class="table-wrap"><table class="grid report" id="stations-table">
          <thead><tr><th scope="col">${t('fin.col.stationCode')}</th><th scope="col">${t('fin.col.stationName')}</th>
            <th scope="col" class="num">${t('fin.col.position')}</th></tr></thead>
          <tbody>${stations.data.map(
            (s) => html`<tr data-station-id=${s.id}><td>${s.code}</td><td>${s.name}</td>
              <td class="num">${s.lat.toFixed(5)}, ${s.lon.toFixed(5)}</td></tr>`,
          )}</tbody></table></div>`)
    }`;
}

function Closings({ ctx }) {
  const { api } = ctx;
  const { data, error, reload } = useLoad(api, '/month-closings');
  const [month, setMonth] = useState('');
  const [msg, setMsg] = useState({ text: '', error: false });
  // City-wide: a finance or admin key without a department closes a month.
  const closer = WRITERS.has(ctx.role) && !ctx.departmentScoped;
  async function close(event) {
    event.preventDefault();
    try {
      await api.post('/month-closings', { month });
      setMsg({ text: t('fin.closedOk', { month }), error: false });
      reload();
    } catch (err) {
      setMsg({ text: t('fin.closeFailed', { why: errorText(err) }), error: true });
    }
  }
  return html`
    <p class="muted small">${t('fin.closingLead')}</p>
    ${
      closer &&
      html`<form id="closing-form" class="toolbar card" onSubmit=${close}>
        <label class="field"><span>${t('fin.month')}</span>
          <input id="closing-month" type="month" value=${month} max=${currentMonth()} required
            onInput=${(e) => setMonth(e.currentTarget.value)} /></label>
        <button type="submit" class="primary">${t('fin.closeMonth')}</button>
        <${Message} id="closing-message" msg=${msg} />
      </form>`
    }
    <${ErrorLine} error=${error} />
    ${
      data &&
      (data.length === 0
        ? html`<p class="empty">${t('fin.noClosings')}</p>`
        : html`<div class="table-wrap"><table class="grid report" id="closings-table">
          <thead><tr><th scope="col">${t('fin.month')}</th><th scope="col">${t('fin.col.closedAt')}</th>
            <th scope="col">${t('fin.col.closedBy')}</th></tr></thead>
          <tbody>${data.map(
            (c) => html`<tr data-month=${c.month}><th scope="row">
              <a href=${href('finance', { tab: 'savings', month: c.month })}>${c.month}</a></th>
              <td>${fmt.timeShort(c.closedAt)}</td><td>${c.closedBy.keyName ?? '–'}</td></tr>`,
          )}</tbody></table></div>`)
    }`;
}

// ---------------------------------------------------------------- the screen

const TAB_TITLES = {
  savings: 'fin.savingsTitle',
  reconciliation: 'fin.reconTitle',
  purchases: 'fin.purchasesTitle',
  vouchers: 'fin.vouchersTitle',
  registers: 'fin.registersTitle',
  closings: 'fin.closingsTitle',
};
const TAB_BODIES = {
  savings: Savings,
  reconciliation: Reconciliation,
  purchases: Purchases,
  vouchers: Vouchers,
  registers: Registers,
  closings: Closings,
};

function Finance({ ctx, route }) {
  const tab = TABS.includes(route.tab) ? route.tab : 'savings';
  // The period forms start from the route: a link to another period makes them anew.
  const key = tab === 'savings' || tab === 'reconciliation' ? `${tab}?${new URLSearchParams(route.params)}` : tab;
  const body = html`<${TAB_BODIES[tab]} key=${key} ctx=${ctx} route=${route} />`;
  return html`<section class="page finance" aria-labelledby="finance-title" data-tab=${tab}>
    <nav class="tabs no-print" aria-label=${t('fin.tabs')}>
      ${TABS.map(
        (x) => html`<a href=${href('finance', { tab: x })} data-tab=${x}
          aria-current=${x === tab ? 'page' : undefined}>${t(`fin.${x}`)}</a>`,
      )}
    </nav>
    <h1 id="finance-title" class="no-print">${t(TAB_TITLES[tab])}</h1>
    ${body}
  </section>`;
}

export function mountFinance(el, ctx, route) {
  // A tab change makes the tab anew (its own state); the same tab with other parameters updates in place.
  let tab = null;
  const draw = (r) => {
    if (tab !== null && tab !== r.tab) render(null, el);
    tab = r.tab;
    render(html`<${Finance} ctx=${ctx} route=${r} />`, el);
  };
  draw(route);
  return { update: draw, unmount: () => render(null, el) };
}
