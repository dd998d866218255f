// The month's reconciliation: each purchase with its status and flags, and the refuels
// without a receipt; each links to the vehicle's history at the purchase.

import { query } from '../../api.js';
import { fmt, t, witaDayOf } from '../../i18n.js';
import { href, navigate } from '../../router.js';
import { html, useState } from '../../ui.js';
import { ErrorLine } from '../common.js';
import { currentMonth, DepartmentField, litres, PrintHead, SignatureBlock, useLoad } from './common.js';

/** The vehicle's history on the day of an instant (WITA). */
export const historyAt = (vehicleId, iso) => href('history', { id: vehicleId, from: witaDayOf(iso), to: witaDayOf(iso) });

export function PurchaseRows({ purchases }) {
  return purchases.map(
    (p) => html`<tr data-purchase-id=${p.purchaseId} data-status=${p.status}>
      <td class="time">${fmt.timeShort(p.at)}</td>
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

export function PurchaseTable({ purchases, id }) {
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

export function Reconciliation({ ctx, route }) {
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
                (r) => html`<tr data-vehicle-id=${r.vehicleId}><td class="time">${fmt.timeShort(r.at)}</td>
                  <th scope="row"><a href=${historyAt(r.vehicleId, r.at)}>${plate(r.vehicleId)}</a></th>
                  <td class="num">${litres(r.litres)}</td></tr>`,
              )}</tbody></table></div>`
        }`
    }
    <${SignatureBlock} />`;
}

// ---------------------------------------------------------------- purchases
