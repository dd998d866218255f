// Alert rules per department: working days and hours for the outside-hours alert (or
// the fleet's default), and the vehicles exempt from it. Editable by an admin key; others
// see them read-only.

import { errorText } from '../api.js';
import { t } from '../i18n.js';
import { html, render, useEffect, useState } from '../ui.js';
import { ErrorLine } from './common.js';

const DAYS = [1, 2, 3, 4, 5, 6, 7];
const hoursText = (h) => `${h.weekdays.map((d) => t(`day.${d}`)).join(', ')} ${h.start}–${h.end}`;

function DepartmentRules({ ctx, rules, defaults, editable }) {
  const { api, ref } = ctx;
  const [own, setOwn] = useState(rules.workingHours !== null);
  const [hours, setHours] = useState(rules.workingHours ?? defaults);
  const [exempt, setExempt] = useState(new Set(rules.exemptVehicleIds));
  const [state, setState] = useState({ saving: false, message: '', error: '' });
  const vehicles = [...ref.fleet.values()]
    .filter((v) => v.departmentId === rules.departmentId)
    .sort((a, b) => a.plateNumber.localeCompare(b.plateNumber, undefined, { numeric: true }));
  const id = rules.departmentId;

  async function save(event) {
    event.preventDefault();
    if (own && hours.weekdays.length === 0) return setState({ saving: false, message: '', error: t('settings.noDays') });
    if (own && !(hours.start < hours.end || hours.end === '24:00'))
      return setState({ saving: false, message: '', error: t('settings.badHours') });
    setState({ saving: true, message: '', error: '' });
    try {
      await api.put(`/departments/${id}/alert-rules`, { workingHours: own ? hours : null, exemptVehicleIds: [...exempt] });
      setState({ saving: false, message: t('settings.saved'), error: '' });
    } catch (err) {
      setState({ saving: false, message: '', error: t('settings.notSaved', { why: errorText(err) }) });
    }
  }
  const toggleDay = (d) =>
    setHours((h) => ({ ...h, weekdays: h.weekdays.includes(d) ? h.weekdays.filter((x) => x !== d) : [...h.weekdays, d].sort() }));
  const toggleExempt = (vid) =>
    setExempt((s) => {
      const n = new Set(s);
      if (n.has(vid)) n.delete(vid);
      else n.add(vid);
      return n;
    });

  return html`
    <form class="rules card" data-department-id=${id} onSubmit=${save}>
      <h2>${ref.departments.get(id) ?? id}</h2>
      <fieldset disabled=${!editable}>
        <legend>${t('settings.days')}</legend>
        <label class="check"><input type="checkbox" class="own-hours" checked=${own}
          onChange=${(e) => setOwn(e.currentTarget.checked)} /> ${t('settings.custom')}</label>
        ${
          own
            ? html`<div class="days">${DAYS.map(
                (d) =>
                  html`<label class="check"><input type="checkbox" data-day=${d} checked=${hours.weekdays.includes(d)}
                    onChange=${() => toggleDay(d)} /> ${t(`day.${d}`)}</label>`,
              )}</div>
            <label class="field inline"><span>${t('settings.start')}</span><input type="time" class="start" value=${hours.start} required
              onInput=${(e) => setHours((h) => ({ ...h, start: e.currentTarget.value }))} /></label>
            <label class="field inline"><span>${t('settings.end')}</span><input type="time" class="end"
              value=${hours.end === '24:00' ? '23:59' : hours.end} required
              onInput=${(e) => setHours((h) => ({ ...h, end: e.currentTarget.value === '23:59' ? '24:00' : e.currentTarget.value }))} />
                </label>`
            : html`<p class="muted">${t('settings.default', { hours: hoursText(defaults) })}</p>`
        }
      </fieldset>
      <fieldset disabled=${!editable}>
        <legend>${t('settings.exempt')}</legend>
        <div class="exempt">${vehicles.map(
          (v) => html`<label class="check"><input type="checkbox" data-vehicle-id=${v.id} checked=${exempt.has(v.id)}
            onChange=${() => toggleExempt(v.id)} />
            ${v.plateNumber} <span class="muted">(${v.kind})</span></label>`,
        )}</div>
      </fieldset>
      ${
        editable &&
        html`<button type="submit" class="primary"
        aria-disabled=${state.saving ? 'true' : 'false'}>${state.saving ? t('settings.saving') : t('settings.save')}</button>`
      }
      ${state.message && html`<p class="ok" role="status">${state.message}</p>`}
      <${ErrorLine} error=${state.error} />
    </form>`;
}

function Settings({ ctx }) {
  const [data, setData] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    ctx.api
      .get('/alert-rules')
      .then(setData)
      .catch((err) => setError(t('err.load', { why: errorText(err) })));
  }, []);
  const name = (id) => ctx.ref.departments.get(id) ?? id;
  return html`
    <section class="page" aria-labelledby="settings-title">
      <h1 id="settings-title">${t('settings.title')}</h1>
      <p class="muted">${t('settings.lead')}</p>
      <${ErrorLine} error=${error} />
      ${data && !data.editable && html`<p class="warning">${t('settings.readOnly')}</p>`}
      ${
        data &&
        [...data.departments]
          .sort((a, b) => name(a.departmentId).localeCompare(name(b.departmentId)))
          .map(
            (r) =>
              html`<${DepartmentRules} key=${r.departmentId} ctx=${ctx} rules=${r} defaults=${data.defaultWorkingHours}
                editable=${data.editable} />`,
          )
      }
    </section>`;
}

export function mountSettings(el, ctx, route) {
  render(html`<${Settings} ctx=${ctx} route=${route} />`, el);
  return { unmount: () => render(null, el) };
}
