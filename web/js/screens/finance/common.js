// What the finance tabs share: the tab list, roles, loading, messages, the department
// field, and the heading and signature block of a printed report.

import { errorText } from '../../api.js';
import { fmt, t, todayWita } from '../../i18n.js';
import { html, useEffect, useState } from '../../ui.js';

export const TABS = ['savings', 'reconciliation', 'purchases', 'vouchers', 'registers', 'closings'];
export const WRITERS = new Set(['admin', 'finance']);
export const FUELS = ['pertalite', 'pertamax', 'pertamax_turbo', 'solar', 'dexlite', 'pertamina_dex'];
export const PAGE = 50;

export const currentMonth = () => todayWita().slice(0, 7);
export const litres = (x) => fmt.n1(x);
export const deptOptions = (ref) => [...ref.departments].sort((a, b) => a[1].localeCompare(b[1]));

/** Loads `path` whenever it changes; `reload()` fetches it again. */
export function useLoad(api, path) {
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
export function Message({ id, msg }) {
  if (!msg.text) return null;
  return html`<p id=${id} class=${msg.error ? 'error' : 'ok'} role=${msg.error ? 'alert' : 'status'}>${msg.text}</p>`;
}

export function DepartmentField({ depts: ref, value, onChange, id }) {
  if (ref.departments.size <= 1) return null;
  return html`<label class="field"><span>${t('fin.department')}</span>
    <select id=${id} value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
      <option value="">${t('fin.allDepartments')}</option>
      ${deptOptions(ref).map(([id, name]) => html`<option value=${id}>${name}</option>`)}
    </select></label>`;
}

/** What the printout says above the table: title, period, department, when it was printed. */
export function PrintHead({ title, period, department }) {
  return html`<div class="print-only print-head">
    <h1>${title}</h1>
    <p>${t('fin.period')}: <strong>${period}</strong> · ${t('fin.department')}: <strong>${department}</strong></p>
    <p class="small">${t('fin.printed', { time: fmt.timeShort(new Date().toISOString()) })}</p>
  </div>`;
}

export function SignatureBlock() {
  return html`<div class="signatures print-only" aria-hidden="true">
    ${['fin.preparedBy', 'fin.checkedBy', 'fin.approvedBy'].map(
      (k) => html`<div class="signature"><p>${t(k)}</p><div class="sign-line"></div><p class="small">${t('fin.nameDate')}</p></div>`,
    )}
  </div>`;
}

// ---------------------------------------------------------------- savings
