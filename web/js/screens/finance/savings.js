// Savings: a month or a year, by department and vehicle, in rupiah; CSV and XLSX downloads.

import { errorText, query } from '../../api.js';
import { fmt, t } from '../../i18n.js';
import { navigate } from '../../router.js';
import { html, useState } from '../../ui.js';
import { ErrorLine } from '../common.js';
import { currentMonth, DepartmentField, litres, PrintHead, SignatureBlock, useLoad } from './common.js';

const SAVINGS_COLS = [
  ['baselineLitres', litres],
  ['baselineIdr', fmt.rupiah],
  ['purchasedLitres', litres],
  ['purchasedIdr', fmt.rupiah],
  ['usedLitres', litres],
  ['unexplainedLitres', litres],
  ['savingsIdr', fmt.rupiah],
];

export function Savings({ ctx, route }) {
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
