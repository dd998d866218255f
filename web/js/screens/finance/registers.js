// Vouchers (issue, list), the price and station registers, and closing a month.

import { errorText } from '../../api.js';
import { fmt, t } from '../../i18n.js';
import { href } from '../../router.js';
import { html, useState } from '../../ui.js';
import { ErrorLine } from '../common.js';
import { currentMonth, litres, Message, useLoad, WRITERS } from './common.js';

const VOUCHER_ISSUERS = new Set(['admin', 'finance', 'manager']);

export function Vouchers({ ctx }) {
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

export function Registers({ ctx }) {
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

export function Closings({ ctx }) {
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
