// The fleet fuel report for a period: by department (a subtotal each) and vehicle,
// sortable, with CSV and XLSX downloads fetched with the key in the Authorization header.
// Each vehicle's row opens its history for the same period.

import { errorText, query } from '../api.js';
import { dayEndIso, dayStartIso, fmt, t, todayWita } from '../i18n.js';
import { href, navigate } from '../router.js';
import { html, render, useEffect, useState } from '../ui.js';
import { ErrorLine, PeriodFields, periodEnd } from './common.js';

/** Columns after the plate: the report's field, its format, and whether it adds up. */
const COLUMNS = [
  ['distanceKm', fmt.n1, true],
  ['fuelUsedLitres', fmt.n1, true],
  ['fuelSource', (s) => t(`source.${s}`), false],
  ['litresPer100Km', fmt.n1, false],
  ['idleLitres', fmt.n1, true],
  ['idleHours', fmt.n1, true],
  ['distanceOutsideHoursKm', fmt.n1, true],
  ['refuelledLitres', fmt.n1, true],
  ['drainedLitres', fmt.n1, true],
  ['tripCount', fmt.n0, true],
];

const sum = (rows, key) => rows.reduce((acc, r) => acc + (r[key] ?? 0), 0);
const per100 = (rows) => {
  const km = sum(rows, 'distanceKm');
  return km >= 1 ? (sum(rows, 'fuelUsedLitres') / km) * 100 : null;
};

function Reports({ ctx, route }) {
  const { api, ref } = ctx;
  const today = todayWita();
  const fromDay = route.params.from ?? `${today.slice(0, 8)}01`;
  const toDay = route.params.to ?? today;
  const departmentId = route.params.departmentId ?? '';
  const [from, setFrom] = useState(fromDay);
  const [to, setTo] = useState(toDay);
  const [dept, setDept] = useState(departmentId);
  const [rows, setRows] = useState(null);
  const [error, setError] = useState('');
  const [sort, setSort] = useState({ key: 'plateNumber', dir: 1 });
  const [downloading, setDownloading] = useState(false);

  const params = () => ({ from: dayStartIso(fromDay), to: periodEnd(dayEndIso(toDay)), departmentId: departmentId || undefined });
  useEffect(() => {
    let cancelled = false;
    setRows(null);
    setError('');
    api
      .get(`/reports/fuel${query(params())}`)
      .then((r) => !cancelled && setRows(r))
      .catch((err) => !cancelled && setError(t('err.load', { why: errorText(err) })));
    return () => {
      cancelled = true;
    };
  }, [fromDay, toDay, departmentId]);

  function submit(event) {
    event.preventDefault();
    if (to < from) return setError(t('period.invalid'));
    navigate('reports', { from, to, departmentId: dept });
  }

  /** The report as a file (`csv` or `xlsx`), fetched with the key in the header and saved under the API's name. */
  async function download(format) {
    if (downloading) return;
    setDownloading(true);
    try {
      await api.download(`/reports/fuel${query({ ...params(), format })}`, `fuel-report-${fromDay}.${format}`);
    } catch (err) {
      setError(t(`reports.${format}Failed`, { why: errorText(err) }));
    } finally {
      setDownloading(false);
    }
  }

  const compare = (a, b) => {
    const x = a[sort.key];
    const y = b[sort.key];
    if (typeof x === 'string' || typeof y === 'string')
      return String(x ?? '').localeCompare(String(y ?? ''), undefined, { numeric: true }) * sort.dir;
    return ((x ?? -Infinity) - (y ?? -Infinity)) * sort.dir;
  };
  const groups = new Map();
  for (const r of rows ?? []) {
    if (!groups.has(r.departmentId)) groups.set(r.departmentId, []);
    groups.get(r.departmentId).push(r);
  }
  const deptName = (id) => ref.departments.get(id) ?? id;
  const ordered = [...groups].sort((a, b) => deptName(a[0]).localeCompare(deptName(b[0])));
  const header = (key, label, num) => {
    const active = sort.key === key;
    return html`<th scope="col" class=${num ? 'num' : ''} aria-sort=${active ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none'}>
      <button type="button" class="sort" data-sort=${key} aria-label=${t('sort.by', { col: label })}
        onClick=${() => setSort((s) => ({ key, dir: s.key === key ? -s.dir : num ? -1 : 1 }))}>
        ${label}${active ? (sort.dir > 0 ? ' ▲' : ' ▼') : ''}</button></th>`;
  };
  const cells = (r) => COLUMNS.map(([key, f]) => html`<td class=${key === 'fuelSource' ? '' : 'num'} data-col=${key}>${f(r[key])}</td>`);
  const totals = (list, cls, label) => html`<tr class=${cls}>
    <th scope="row">${label}</th>
    ${COLUMNS.map(
      ([key, f, adds]) => html`<td class="num"
      data-col=${key}>${adds ? f(sum(list, key)) : key === 'litresPer100Km' ? fmt.n1(per100(list)) : ''}</td>`,
    )}
  </tr>`;

  return html`
    <section class="page" aria-labelledby="reports-title">
      <h1 id="reports-title">${t('reports.title')}</h1>
      <form class="toolbar" onSubmit=${submit}>
        <${PeriodFields} idPrefix="reports" from=${from} to=${to} onFrom=${setFrom} onTo=${setTo} />
        ${
          ref.departments.size > 1 &&
          html`<label class="field"><span>${t('map.department')}</span>
          <select id="reports-department" value=${dept} onChange=${(e) => setDept(e.currentTarget.value)}>
            <option value="">${t('map.allDepartments')}</option>
            ${[...ref.departments]
              .sort((a, b) => a[1].localeCompare(b[1]))
              .map(
                ([id, name]) => html`<option
              value=${id}>${name}</option>`,
              )}
          </select></label>`
        }
        <button type="submit" class="primary">${t('period.show')}</button>
        <button type="button" id="reports-csv" onClick=${() => download('csv')}
          aria-disabled=${downloading ? 'true' : 'false'}>${t('reports.csv')}</button>
        <button type="button" id="reports-xlsx" onClick=${() => download('xlsx')}
          aria-disabled=${downloading ? 'true' : 'false'}>${t('reports.xlsx')}</button>
      </form>
      <${ErrorLine} error=${error} />
      ${rows === null && !error && html`<p class="empty" role="status">${t('loading')}</p>`}
      ${
        rows &&
        (rows.length === 0
          ? html`<p class="empty">${t('reports.none')}</p>`
          : html`<div class="table-wrap"><table class="grid report">
            <caption class="sr-only">${t('reports.title')}</caption>
            <thead>
              <tr>
                ${header('plateNumber', t('col.plate'), false)}
                ${COLUMNS.map(([key]) => header(key, t(`col.${key}`), key !== 'fuelSource'))}
              </tr></thead>
            ${ordered.map(
              ([id, list]) => html`<tbody data-department-id=${id}>
                <tr class="group"><th scope="rowgroup" colspan=${COLUMNS.length + 1}>${deptName(id)}</th></tr>
                ${[...list].sort(compare).map(
                  (r) => html`<tr class="vehicle-row" data-vehicle-id=${r.vehicleId}>
                    <th scope="row"><a href=${href('history', { id: r.vehicleId, from: fromDay, to: toDay })}
                      title=${t('reports.openHistory', { plate: r.plateNumber })}>${r.plateNumber}</a></th>
                    ${cells(r)}
                  </tr>`,
                )}
                ${totals(list, 'subtotal', `${t('reports.total')} ${deptName(id)}`)}
              </tbody>`,
            )}
            <tfoot>${totals(rows, 'total', t('reports.total'))}</tfoot>
          </table></div>`)
      }
    </section>`;
}

export function mountReports(el, ctx, route) {
  const draw = (r) => render(html`<${Reports} ctx=${ctx} route=${r} />`, el);
  draw(route);
  return { update: draw, unmount: () => render(null, el) };
}
