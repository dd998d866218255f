// The live map: the fleet on a canvas layer over Leaflet, a side panel with the alerts,
// the counts by status, a department filter, a text filter and the vehicle list.
// Position batches are queued (the newest per vehicle) and applied once per animation
// frame: only the rows of vehicles that changed are touched, the list rows are kept.

import { connectLiveFeed } from '../live-feed.js';
import { fmt, t, todayWita, witaDayOf } from '../i18n.js';
import { href } from '../router.js';
import { createMap, drawGeofences } from '../map/base-map.js';
import { STATUSES, STATUS_COLOURS, createVehicleLayer } from '../map/vehicle-layer.js';
import { createAlertsPanel } from './live-alerts.js';
import { createVehicleList } from './vehicle-list.js';

/** Mirrors src/domain/status.ts. */
const MOTION_SPEED_KMH = 3;
const OFFLINE_AFTER_MS = 15 * 60 * 1000;
/** Alerts acknowledged elsewhere (another manager, another tab) leave the list within this. */
const ALERTS_REFRESH_MS = 60_000;
const FILTER_DEBOUNCE_MS = 150;
/** The list's rows and counts follow at most this often: figures in a list need no 60 frames a second, markers do. */
const LIST_EVERY_MS = 250;

export function vehicleStatus(v, nowMs) {
  if (nowMs - Date.parse(v.at) > OFFLINE_AFTER_MS) return 'offline';
  if ((v.speedKmh ?? 0) >= MOTION_SPEED_KMH) return 'moving';
  return v.ignition === true ? 'idle' : 'stopped';
}

const speedText = (v) => (v.speedKmh == null ? '–' : String(Math.round(v.speedKmh)));
const fuelText = (v) => (v.fuelLitres == null ? '–' : fmt.n1(v.fuelLitres));
const setText = (node, text) => {
  if (node.textContent !== text) node.textContent = text;
};

export function mountLive(root, ctx) {
  const { api, ref } = ctx;
  root.innerHTML = `
    <div class="live">
      <aside class="panel" aria-label="${t('nav.map')}">
        <div class="panel-head">
          <h1>${t('nav.map')}</h1>
          <span id="conn" class="conn" data-state="connecting" role="status">${t('conn.connecting')}</span>
        </div>
        <details id="alerts" class="alerts" open>
          <summary>${t('alerts.title')} <span class="badge"><b id="alert-count" data-count="0">0</b><span
            class="sr-only">${t('alerts.unacked')}</span></span></summary>
          <p id="alerts-status" class="alerts-status" role="status" hidden></p>
          <ol id="alert-list" class="alert-list" aria-label="${t('alerts.listLabel')}" aria-live="polite" aria-relevant="additions"></ol>
          <p id="alerts-empty" class="empty" hidden>${t('alerts.none')}</p>
        </details>
        <ul id="counts" class="counts" aria-label="${t('status.label')}">
          ${STATUSES.map((s) => `<li data-status="${s}"><span class="dot"></span>${t(`status.${s}`)} <b>0</b></li>`).join('')}
        </ul>
        <div class="filters">
          <label class="field"><span>${t('map.department')}</span>
            <select id="dept-filter"><option value="">${t('map.allDepartments')}</option></select></label>
          <input id="filter" class="filter" type="search" placeholder="${t('map.filter')}" aria-label="${t('map.filterLabel')}">
        </div>
        <div class="list">
          <div class="vehicles">
            <div class="vrow vhead" aria-hidden="true"><span>${t('map.plate')}</span>
              <span>${t('map.status')}</span><span class="num">${t('map.speed')}</span>
                <span class="num" title="${t('map.fuelTitle')}">${t('map.fuel')}</span></div>
            <div id="vehicle-list" aria-label="${t('map.listLabel')}" aria-describedby="vehicle-list-keys"></div>
            <p id="vehicle-list-keys" class="sr-only">${t('map.listKeys')}</p>
          </div>
          <p id="empty" class="empty" hidden>${t('map.empty')}</p>
        </div>
      </aside>
      <div id="map" class="map" role="region" aria-label="${t('map.label')}"></div>
    </div>`;
  const $ = (sel) => root.querySelector(sel);

  const vehicles = new Map(); // vehicleId -> the vehicle as shown
  let pending = new Map(); // vehicleId -> newest position not yet applied
  let frameQueued = 0;
  let stopped = false;
  let selected = null;
  let needle = '';
  let department = '';
  let fleetReload = null;

  const map = createMap($('#map'));
  const label = (v) => v.plateNumber ?? ref.fleet.get(v.vehicleId)?.plateNumber ?? v.vehicleId.slice(0, 8);
  const departmentName = (v) => ref.departments.get(v.departmentId) ?? '';
  const matches = (v) =>
    (!department || v.departmentId === department) &&
    (!needle || label(v).toLowerCase().includes(needle) || departmentName(v).toLowerCase().includes(needle));

  function tipContent(v, withLink) {
    const box = document.createElement('div');
    box.className = 'vm-tip';
    const line = (tag, text) => box.append(Object.assign(document.createElement(tag), { textContent: text }));
    line('b', label(v));
    if (departmentName(v)) line('div', departmentName(v));
    line('div', `${t(`status.${v.status}`)} · ${speedText(v)} ${t('map.speed')}`);
    line('div', t('map.fuelTip', { litres: fuelText(v) }));
    line('div', t('map.lastFix', { time: fmt.time(v.at) }));
    if (withLink) {
      // Yesterday and today: a vehicle that has just started its day still shows where it was before.
      const today = todayWita();
      const href_ = href('history', { id: v.vehicleId, from: witaDayOf(new Date(Date.now() - 86_400_000).toISOString()), to: today });
      const a = Object.assign(document.createElement('a'), { href: href_, className: 'vm-history', textContent: t('map.openHistory') });
      a.setAttribute('aria-label', t('map.openHistoryOf', { plate: label(v) }));
      box.setAttribute('role', 'group');
      box.setAttribute('aria-label', label(v));
      box.append(a);
    }
    return box;
  }

  const layer = createVehicleLayer(map, { label, onClick: (id) => select(id, false), tooltip: (v) => tipContent(v, false) });
  layer.setVehicles(vehicles, matches);
  const popup = L.popup({ offset: [0, -8], autoPan: false });

  // Legend: what the colours and shapes mean.
  const legend = L.control({ position: 'bottomright' });
  legend.onAdd = () => {
    // A <details>: open on a desk, closed on a phone where it would cover the map.
    const div = L.DomUtil.create('details', 'legend');
    div.open = window.innerWidth > 700;
    div.innerHTML = `<summary>${t('map.legend')}</summary>
      ${STATUSES.map((s) => `<div><span class="dot" style="background:${STATUS_COLOURS[s]}"></span>${t(`status.${s}`)}</div>`).join('')}
      <div><span class="legend-cluster"></span>${t('map.cluster')}</div>
      <div><span class="legend-boundary"></span>${t('map.boundary')}</div>`;
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  legend.addTo(map);
  drawGeofences(map, api).catch(() => undefined);

  // ---------------------------------------------------------------- department filter

  function fillDepartments() {
    const select = $('#dept-filter');
    const current = select.value;
    select.replaceChildren(select.options[0]);
    for (const [id, name] of [...ref.departments].sort((a, b) => a[1].localeCompare(b[1]))) {
      select.append(Object.assign(document.createElement('option'), { value: id, textContent: name }));
    }
    select.value = current;
    // A department key sees one department: nothing to choose.
    select.closest('label').hidden = ref.departments.size <= 1;
  }
  fillDepartments();

  // ---------------------------------------------------------------- the list (virtual: rows in view only)

  const collator = new Intl.Collator(undefined, { numeric: true });
  const list = createVehicleList({
    scroller: $('.list'),
    body: $('#vehicle-list'),
    vehicles,
    label,
    departmentName,
    // Enter on a row: the vehicle centred with its popup, and the keyboard on the popup's history link.
    onOpen(id) {
      select(id, true);
      popup.getElement()?.querySelector('a.vm-history')?.focus();
    },
  });
  /** The listed vehicles in plate order; made again when vehicles come or go, or the filter changes. */
  function reorder() {
    const shown = [...vehicles.values()].filter(matches).map((v) => [label(v), v.vehicleId]);
    shown.sort((x, y) => collator.compare(x[0], y[0]));
    list.setOrder(shown.map((x) => x[1]));
  }

  function updateCounts() {
    const counts = Object.fromEntries(STATUSES.map((s) => [s, 0]));
    let visible = 0;
    for (const v of vehicles.values()) {
      if (!matches(v)) continue;
      counts[v.status] += 1;
      visible += 1;
    }
    for (const li of $('#counts').children) setText(li.querySelector('b'), String(counts[li.dataset.status]));
    $('#empty').hidden = visible > 0;
  }

  // ---------------------------------------------------------------- positions

  function upsert(p) {
    const known = ref.fleet.get(p.vehicleId);
    const prev = vehicles.get(p.vehicleId);
    if (prev && Date.parse(prev.at) > Date.parse(p.at)) return false; // never move back in time
    let fuelLitres = p.fuelLitres ?? null;
    if (fuelLitres == null && p.fuelPercent != null && known?.tankCapacityLitres)
      fuelLitres = Math.round(p.fuelPercent * known.tankCapacityLitres) / 100;
    const v = prev ?? { vehicleId: p.vehicleId };
    v.plateNumber = p.plateNumber ?? prev?.plateNumber ?? known?.plateNumber ?? null;
    v.departmentId = p.departmentId;
    v.at = p.at;
    v.lat = p.lat;
    v.lon = p.lon;
    v.speedKmh = p.speedKmh ?? null;
    v.headingDeg = p.headingDeg ?? null;
    v.fuelLitres = fuelLitres ?? (p.fuelPercent == null ? null : (prev?.fuelLitres ?? null));
    v.ignition = p.ignition ?? null;
    v.status = vehicleStatus(v, Date.now());
    vehicles.set(v.vehicleId, v);
    if (!v.plateNumber) reloadFleetSoon();
    return true;
  }

  const dirtyRows = new Set();
  let listFlushedAt = -Infinity;
  let listTimer = 0;
  let orderStale = false;

  function flushList() {
    clearTimeout(listTimer);
    listTimer = 0;
    listFlushedAt = performance.now();
    if (orderStale) {
      orderStale = false;
      reorder();
    } else {
      list.changed(dirtyRows);
    }
    dirtyRows.clear();
    updateCounts();
  }

  function applyFrame() {
    frameQueued = 0;
    if (stopped) return;
    const batch = pending;
    pending = new Map();
    for (const p of batch.values()) {
      const known = vehicles.has(p.vehicleId);
      if (!upsert(p)) continue;
      dirtyRows.add(p.vehicleId);
      if (!known) orderStale = true;
    }
    // New vehicles at once (a snapshot, a vehicle just registered); changed figures within LIST_EVERY_MS.
    const wait = LIST_EVERY_MS - (performance.now() - listFlushedAt);
    if (wait <= 0 || orderStale) flushList();
    else if (!listTimer) listTimer = setTimeout(() => requestAnimationFrame(() => !stopped && flushList()), wait);
    layer.changed();
    layer.draw();
    if (selected && batch.has(selected) && map.hasLayer(popup)) openPopup(vehicles.get(selected));
  }

  function queue(list) {
    for (const p of list) pending.set(p.vehicleId, p);
    if (!frameQueued) frameQueued = requestAnimationFrame(applyFrame);
  }

  function snapshot(positions) {
    pending = new Map();
    const ids = new Set(positions.map((p) => p.vehicleId));
    for (const id of [...vehicles.keys()]) if (!ids.has(id)) vehicles.delete(id);
    orderStale = true;
    queue(positions);
  }

  /** Vehicles go offline without any message: statuses are recomputed now and then. */
  function retick() {
    const nowMs = Date.now();
    const changed = new Set();
    for (const v of vehicles.values()) {
      const s = vehicleStatus(v, nowMs);
      if (s !== v.status) {
        v.status = s;
        changed.add(v.vehicleId);
      }
    }
    list.changed(changed);
    updateCounts();
    layer.changed();
    layer.requestDraw();
  }

  function refilter() {
    $('.list').scrollTop = 0; // the first matches, not the place the whole list was scrolled to
    reorder();
    updateCounts();
    layer.refilter();
  }

  /** A vehicle the snapshot did not have (registered since): fetch the fleet again, once at a time. */
  function reloadFleetSoon() {
    if (fleetReload) return;
    fleetReload = new Promise((r) => setTimeout(r, 1000))
      .then(() => ctx.reloadReference())
      .then(() => {
        fillDepartments();
        for (const v of vehicles.values()) v.plateNumber ??= ref.fleet.get(v.vehicleId)?.plateNumber ?? null;
        reorder();
        layer.requestDraw();
      })
      .catch(() => undefined)
      .finally(() => {
        fleetReload = null;
      });
  }

  // ---------------------------------------------------------------- selection

  function openPopup(v) {
    // A new position rewrites the popup: the keyboard stays on its link.
    const focused = popup.getElement()?.contains(document.activeElement) ? document.activeElement : null;
    popup.setLatLng([v.lat, v.lon]).setContent(tipContent(v, true));
    if (!map.hasLayer(popup)) popup.openOn(map);
    if (focused?.classList.contains('vm-history')) popup.getElement()?.querySelector('a.vm-history')?.focus();
  }

  // Escape closes the popup; the keyboard goes back to the vehicle's row in the list. (Before
  // Leaflet's own Escape on the map, which would close it and leave the focus nowhere.)
  function onEscape(event) {
    if (event.key !== 'Escape' || !map.hasLayer(popup)) return;
    const fromPopup = popup.getElement()?.contains(document.activeElement);
    if (!fromPopup && document.activeElement !== $('#vehicle-list')) return;
    event.preventDefault();
    event.stopPropagation();
    map.closePopup(popup);
    list.focus();
  }
  root.addEventListener('keydown', onEscape, true);

  function select(vehicleId, pan) {
    selected = vehicleId;
    layer.select(vehicleId);
    const v = vehicles.get(vehicleId);
    if (v) {
      if (pan) map.setView([v.lat, v.lon], Math.max(map.getZoom(), 16), { animate: false });
      openPopup(v);
    }
    list.select(vehicleId, !pan);
    alerts.select(vehicleId);
  }

  const alerts = createAlertsPanel(root, {
    api,
    plateOf: (id) => ref.fleet.get(id)?.plateNumber ?? vehicles.get(id)?.plateNumber,
    isStopped: () => stopped,
    onShow(a) {
      if (vehicles.has(a.vehicleId)) return select(a.vehicleId, true);
      select(a.vehicleId, false);
      if (a.lat != null && a.lon != null) map.setView([a.lat, a.lon], Math.max(map.getZoom(), 16));
    },
  });

  const body = $('#vehicle-list');
  // A click on a row (the keys are the list's own: vehicle-list.js).
  body.addEventListener('click', (event) => {
    const tr = event.target.closest('[data-vehicle-id]');
    if (!tr) return;
    event.preventDefault();
    select(tr.dataset.vehicleId, true);
  });
  // The row's title is made when the pointer comes, not on every position.
  body.addEventListener('mouseover', (event) => {
    const tr = event.target.closest('[data-vehicle-id]');
    const v = tr && vehicles.get(tr.dataset.vehicleId);
    if (v) tr.title = t('map.rowTitle', { plate: label(v), dept: departmentName(v), time: fmt.time(v.at) });
  });

  let filterTimer = null;
  $('#filter').addEventListener('input', () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => {
      needle = $('#filter').value.trim().toLowerCase();
      refilter();
    }, FILTER_DEBOUNCE_MS);
  });
  $('#dept-filter').addEventListener('change', () => {
    department = $('#dept-filter').value;
    refilter();
  });

  // ---------------------------------------------------------------- feed

  const conn = $('#conn');
  const feed = connectLiveFeed(api, {
    state(state, { seconds, why }) {
      conn.dataset.state = state;
      conn.textContent =
        seconds !== undefined
          ? t('conn.offline', { s: seconds, why: why ? ` (${why})` : '' })
          : t(state === 'live' ? 'conn.live' : state === 'connecting' ? 'conn.connecting' : 'conn.reconnecting');
    },
    snapshot,
    positions: queue,
    alert: (a) => alerts.pushed(a),
    open() {
      if (ref.fleet.size === 0) reloadFleetSoon();
      // From now on new alerts are pushed; those raised before (or while the feed was down) are listed by the API.
      alerts.load();
    },
  });
  const tick = setInterval(retick, 30_000);
  const alertTimer = setInterval(() => {
    if (feed.open) alerts.load();
  }, ALERTS_REFRESH_MS);

  // For the browser tests and the benchmark: where each vehicle's marker was drawn, and the layer's timings.
  window.armadaDebug = { map, layer, vehicles };

  return {
    unmount() {
      stopped = true;
      root.removeEventListener('keydown', onEscape, true);
      feed.stop();
      clearInterval(tick);
      clearInterval(alertTimer);
      clearTimeout(filterTimer);
      clearTimeout(listTimer);
      list.remove();
      cancelAnimationFrame(frameQueued);
      layer.remove();
      map.remove();
      delete window.armadaDebug;
    },
  };
}
