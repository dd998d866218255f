// The alert list with filters (period in WITA days, kind, department, unacknowledged
// only) and Acknowledge on each open alert.

import { errorText, query } from '../api.js';
import { alertText, dayEndIso, dayStartIso, fmt, kindName, t, todayWita } from '../i18n.js';
import { href, navigate } from '../router.js';
import { html, render, useEffect, useState } from '../ui.js';
import { ErrorLine, PeriodFields, periodEnd } from './common.js';

const KINDS = ['speeding', 'outside_working_hours', 'geofence_exit', 'low_battery', 'device_silent', 'fuel_drain'];
const LIMIT = 1000;

function AckButton({ ctx, alert, onDone }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  async function ack() {
    if (busy) return;
    setBusy(true);
    setError('');
    try {
      onDone(await ctx.api.post(`/alerts/${alert.id}/acknowledge`, {}));
    } catch (err) {
      setError(t('alerts.notAcked', { why: errorText(err) }));
      setBusy(false);
    }
  }
  return html`<button type="button" class="small-button" aria-disabled=${busy ? 'true' : 'false'}
    onClick=${ack}>${busy ? t('alerts.acking') : t('alerts.ack')}</button>
    ${error && html`<p class="alert-error" role="alert">${error}</p>`}`;
}

function Alerts({ ctx, route }) {
  const { api, ref } = ctx;
  const p = route.params;
  const today = todayWita();
  const fromDay = p.from ?? today;
  const toDay = p.to ?? today;
  const [form, setForm] = useState({
    from: fromDay,
    to: toDay,
    kind: p.kind ?? '',
    departmentId: p.departmentId ?? '',
    unacknowledged: p.unacknowledged === 'true',
  });
  const [list, setList] = useState(null);
  const [error, setError] = useState('');

  useEffect(() => {
    let cancelled = false;
    setList(null);
    setError('');
    api
      .get(
        `/alerts${query({
          from: dayStartIso(fromDay),
          to: periodEnd(dayEndIso(toDay)),
          kind: p.kind,
          departmentId: p.departmentId,
          unacknowledged: p.unacknowledged,
          limit: LIMIT,
        })}`,
      )
      .then((l) => !cancelled && setList(l))
      .catch((err) => !cancelled && setError(t('err.load', { why: errorText(err) })));
    return () => {
      cancelled = true;
    };
  }, [route]);

  const set = (k) => (e) =>
    setForm((f) => ({ ...f, [k]: e.currentTarget.type === 'checkbox' ? e.currentTarget.checked : e.currentTarget.value }));
  function submit(event) {
    event.preventDefault();
    if (form.to < form.from) return setError(t('period.invalid'));
    navigate('alerts', { ...form, unacknowledged: form.unacknowledged ? 'true' : '' });
  }
  const plateOf = (a) => a.plateNumber ?? ref.fleet.get(a.vehicleId)?.plateNumber ?? a.vehicleId.slice(0, 8);
  const replace = (updated) => setList((l) => l.map((a) => (a.id === updated.id ? updated : a)));

  return html`
    <section class="page" aria-labelledby="alerts-title">
      <h1 id="alerts-title">${t('nav.alerts')}</h1>
      <form class="toolbar" onSubmit=${submit}>
        <${PeriodFields} idPrefix="alerts" from=${form.from} to=${form.to} onFrom=${(v) => setForm((f) => ({ ...f, from: v }))}
          onTo=${(v) => setForm((f) => ({ ...f, to: v }))} />
        <label class="field"><span>${t('alerts.kind')}</span>
          <select id="alerts-kind" value=${form.kind} onChange=${set('kind')}>
            <option value="">${t('alerts.allKinds')}</option>
            ${KINDS.map((k) => html`<option value=${k}>${kindName(k)}</option>`)}
          </select></label>
        ${
          ref.departments.size > 1 &&
          html`<label class="field"><span>${t('map.department')}</span>
          <select id="alerts-department" value=${form.departmentId} onChange=${set('departmentId')}>
            <option value="">${t('map.allDepartments')}</option>
            ${[...ref.departments]
              .sort((a, b) => a[1].localeCompare(b[1]))
              .map(
                ([id, name]) => html`<option
              value=${id}>${name}</option>`,
              )}
          </select></label>`
        }
        <label class="check"><input type="checkbox" id="alerts-unacked" checked=${form.unacknowledged}
          onChange=${set('unacknowledged')} /> ${t('alerts.onlyUnacked')}</label>
        <button type="submit" class="primary">${t('period.show')}</button>
      </form>
      <${ErrorLine} error=${error} />
      ${list === null && !error && html`<p class="empty" role="status">${t('loading')}</p>`}
      ${list && list.length === 0 && html`<p class="empty">${t('alerts.none')}</p>`}
      ${list && list.length >= LIMIT && html`<p class="warning">${t('alerts.more', { n: LIMIT })}</p>`}
      ${
        list &&
        list.length > 0 &&
        html`<div class="table-wrap"><table class="grid alerts-table">
        <thead><tr><th scope="col">${t('alerts.time')}</th><th scope="col">${t('alerts.kind')}</th>
          <th scope="col">${t('alerts.vehicle')}</th>
          <th scope="col">${t('alerts.message')}</th><th scope="col">${t('alerts.state')}</th></tr></thead>
        <tbody>${list.map(
          (a) => html`<tr data-alert-id=${a.id} data-kind=${a.kind}>
            <td><time datetime=${a.at}>${fmt.time(a.at)}</time></td>
            <td>${kindName(a.kind)}</td>
            <td><a href=${href('history', { id: a.vehicleId, from: fromDay, to: toDay })}>${plateOf(a)}</a></td>
            <td>${alertText(a, plateOf(a))}</td>
            <td>${
              a.acknowledgedAt
                ? t('alerts.acked', { time: fmt.timeShort(a.acknowledgedAt) })
                : html`<${AckButton} ctx=${ctx}
              alert=${a} onDone=${replace} />`
            }</td>
          </tr>`,
        )}</tbody></table></div>`
      }
    </section>`;
}

export function mountAlerts(el, ctx, route) {
  const draw = (r) => render(html`<${Alerts} ctx=${ctx} route=${r} />`, el);
  draw(route);
  return { update: draw, unmount: () => render(null, el) };
}
