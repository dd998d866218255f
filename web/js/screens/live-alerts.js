// The live map's alerts panel: the unacknowledged alerts, newest first, pushed over the
// live feed, each with Acknowledge (and a note). Items are kept, not rebuilt, so a typed
// note, an error or the keyboard focus survives new alerts.

import { Unauthorized, errorText, query } from '../api.js';
import { alertText, fmt, kindName, t } from '../i18n.js';

/** The panel lists at most this many unacknowledged alerts, of the last ALERTS_SINCE_DAYS days. */
const ALERTS_SHOWN = 50;
const ALERTS_SINCE_DAYS = 30;

export function createAlertsPanel(root, { api, plateOf, onShow, isStopped }) {
  const $ = (sel) => root.querySelector(sel);
  let shownAlerts = [];
  const alertItems = new Map();
  const acknowledgedHere = new Set();
  let moreAlerts = false;
  let alertsLoaded = false;
  let alertsLoading = false;
  let alertsAgain = false;
  let pushedDuringLoad = null;
  let selected = null;

  function setStatus(text) {
    const el = $('#alerts-status');
    el.textContent = text;
    el.hidden = !text;
  }

  async function load() {
    if (isStopped()) return;
    if (alertsLoading) {
      alertsAgain = true;
      return;
    }
    alertsLoading = true;
    try {
      do {
        alertsAgain = false;
        pushedDuringLoad = [];
        const from = new Date(Date.now() - ALERTS_SINCE_DAYS * 86_400_000).toISOString();
        let list;
        try {
          list = await api.get(`/alerts${query({ unacknowledged: 'true', limit: ALERTS_SHOWN, from })}`);
        } catch (err) {
          if (err instanceof Unauthorized) return;
          if (!isStopped()) setStatus(t('alerts.loadFailed', { why: errorText(err) }));
          return;
        }
        if (isStopped()) return;
        const listed = new Set(list.map((a) => a.id));
        const pushed = pushedDuringLoad.filter((a) => !listed.has(a.id)).reverse();
        moreAlerts = list.length >= ALERTS_SHOWN;
        alertsLoaded = true;
        setStatus('');
        show([...pushed, ...list]);
      } while (alertsAgain && !isStopped());
    } finally {
      alertsLoading = false;
      pushedDuringLoad = null;
    }
  }

  function pushed(a) {
    if (a.acknowledgedAt || acknowledgedHere.has(a.id)) return;
    pushedDuringLoad?.push(a);
    if (shownAlerts.some((s) => s.id === a.id)) return;
    alertsLoaded = true;
    show([a, ...shownAlerts]);
  }

  /** Makes the list these alerts, in this order, moving as few items as it can (a focused note keeps its focus). */
  function show(list) {
    const ids = new Set();
    list = list.filter((a) => {
      if (acknowledgedHere.has(a.id) || ids.has(a.id)) return false;
      ids.add(a.id);
      return true;
    });
    if (list.length > ALERTS_SHOWN) {
      for (const a of list.splice(ALERTS_SHOWN)) ids.delete(a.id);
      moreAlerts = true;
    }
    shownAlerts = list;
    const ol = $('#alert-list');
    let refocus = -1;
    for (const [id, li] of alertItems) {
      if (ids.has(id)) continue;
      if (li.contains(document.activeElement)) refocus = [...ol.children].indexOf(li);
      li.remove();
      alertItems.delete(id);
    }
    list.forEach((a, i) => {
      let li = alertItems.get(a.id);
      if (!li) {
        li = item(a);
        alertItems.set(a.id, li);
      }
      if (ol.children[i] !== li) ol.insertBefore(li, ol.children[i] ?? null);
    });
    if (refocus >= 0)
      (ol.children[Math.min(refocus, ol.children.length - 1)]?.querySelector('.alert-show') ?? $('#alerts summary')).focus();
    const count = $('#alert-count');
    count.textContent = `${list.length}${moreAlerts ? '+' : ''}`;
    count.dataset.count = String(list.length);
    $('#alerts-empty').hidden = !alertsLoaded || list.length > 0;
  }

  function el(tag, props, ...children) {
    const e = Object.assign(document.createElement(tag), props);
    e.append(...children);
    return e;
  }

  function item(a) {
    const kind = kindName(a.kind);
    const plate = a.plateNumber ?? plateOf(a.vehicleId) ?? a.vehicleId.slice(0, 8);
    const li = el('li', { className: 'alert' });
    if (a.vehicleId === selected) li.classList.add('selected');
    li.dataset.alertId = String(a.id);
    li.dataset.kind = a.kind;
    li.dataset.vehicleId = a.vehicleId;
    const showButton = el(
      'button',
      { type: 'button', className: 'alert-show', title: t('alerts.show', { plate }) },
      el('span', { className: 'alert-kind', textContent: kind }),
      el('span', { className: 'alert-plate', textContent: plate }),
      el('time', { className: 'alert-time', dateTime: a.at, textContent: fmt.time(a.at) }),
      el('span', { className: 'alert-message', textContent: alertText(a, plate) }),
    );
    showButton.addEventListener('click', () => onShow(a));
    const note = el('input', {
      type: 'text',
      className: 'alert-note',
      maxLength: 1000,
      placeholder: t('alerts.note'),
      autocomplete: 'off',
    });
    note.setAttribute('aria-label', t('alerts.noteLabel', { kind: kind.toLowerCase(), plate }));
    const button = el('button', { type: 'submit', className: 'alert-ack-button', textContent: t('alerts.ack') });
    const form = el('form', { className: 'alert-ack' }, note, button);
    const error = el('p', { className: 'alert-error', hidden: true });
    error.setAttribute('role', 'alert');
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (button.getAttribute('aria-disabled') !== 'true') acknowledge(a, { note, button, error });
    });
    li.append(showButton, form, error);
    return li;
  }

  async function acknowledge(a, { note, button, error }) {
    // aria-disabled, not disabled: the button keeps the keyboard focus while the request runs.
    button.setAttribute('aria-disabled', 'true');
    button.textContent = t('alerts.acking');
    error.hidden = true;
    const text = note.value.trim();
    try {
      await api.post(`/alerts/${a.id}/acknowledge`, text ? { note: text } : {});
      acknowledgedHere.add(a.id);
      if (!isStopped()) show(shownAlerts);
      if (moreAlerts) load();
      return;
    } catch (err) {
      if (err instanceof Unauthorized || isStopped()) return;
      button.removeAttribute('aria-disabled');
      button.textContent = t('alerts.ack');
      error.textContent = t('alerts.notAcked', { why: err instanceof TypeError ? t('alerts.tryAgain') : errorText(err) });
      error.hidden = false;
    }
  }

  return {
    load,
    pushed,
    select(vehicleId) {
      selected = vehicleId;
      for (const li of $('#alert-list').children) li.classList.toggle('selected', li.dataset.vehicleId === vehicleId);
    },
  };
}
