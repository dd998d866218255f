// The purchases ledger: paged, void with a reason, a form to record one, and a fuel-card
// CSV import checked first (dry run).

import { errorText, query } from '../../api.js';
import { fmt, t } from '../../i18n.js';
import { navigate } from '../../router.js';
import { html, useState } from '../../ui.js';
import { ErrorLine } from '../common.js';
import { FUELS, litres, Message, PAGE, useLoad, WRITERS } from './common.js';
import { historyAt } from './reconciliation.js';

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

export function Purchases({ ctx, route }) {
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
