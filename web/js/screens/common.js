// Pieces the screens share: the period fields (WITA days) and an error line.
import { html } from '../ui.js';
import { t, todayWita } from '../i18n.js';

/** Days from…to (inclusive), as <input type="date"> in WITA. */
export function PeriodFields({ from, to, onFrom, onTo, idPrefix }) {
  return html`
    <label class="field"><span>${t('period.from')}</span>
      <input id=${`${idPrefix}-from`} type="date" value=${from} max=${todayWita()} required
        onInput=${(e) => onFrom(e.currentTarget.value)} /></label>
    <label class="field"><span>${t('period.to')}</span>
      <input id=${`${idPrefix}-to`} type="date" value=${to} max=${todayWita()} required onInput=${(e) => onTo(e.currentTarget.value)} />
        </label>`;
}

export function ErrorLine({ error }) {
  return error ? html`<p class="error" role="alert">${error}</p>` : null;
}

/** The period's exclusive end: the end of the last day, or now when that is still to come. */
export function periodEnd(dayEndIso) {
  return new Date(Math.min(Date.parse(dayEndIso), Date.now())).toISOString();
}
