// Armada live map: a key form, then the fleet on a Leaflet map fed by /api/v1/live.
// Plain ES module, no build step. Leaflet is the global `L` (vendor/leaflet/leaflet.js).

const KUPANG = [-10.1702, 123.6078];
const KEY_STORAGE = 'armada.apiKey';
/** Mirrors src/domain/status.ts. */
const MOTION_SPEED_KMH = 3;
const OFFLINE_AFTER_MS = 15 * 60 * 1000;
const STATUSES = ['moving', 'idle', 'stopped', 'offline'];
/** Plate labels under the markers from this zoom on. */
const LABELS_FROM_ZOOM = 13;
/** Alert kinds (src/domain/alerts.ts) as the panel names them. */
const ALERT_KINDS = {
  speeding: 'Speeding',
  outside_working_hours: 'Outside working hours',
  geofence_exit: 'Left geofence',
  low_battery: 'Low battery',
  device_silent: 'Device silent',
  fuel_drain: 'Fuel drain',
};
/** The panel lists at most this many unacknowledged alerts, of the last ALERTS_SINCE_DAYS days. */
const ALERTS_SHOWN = 50;
const ALERTS_SINCE_DAYS = 30;
/** Alerts acknowledged elsewhere (another manager, another tab) leave the list within this. */
const ALERTS_REFRESH_MS = 60_000;

const $ = (id) => document.getElementById(id);
const timeFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Asia/Makassar', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
});

class Unauthorized extends Error {}

export function vehicleStatus(v, nowMs) {
  if (nowMs - Date.parse(v.at) > OFFLINE_AFTER_MS) return 'offline';
  if ((v.speedKmh ?? 0) >= MOTION_SPEED_KMH) return 'moving';
  return v.ignition === true ? 'idle' : 'stopped';
}

const fmt = {
  speed: (v) => (v.speedKmh == null ? '–' : String(Math.round(v.speedKmh))),
  fuel: (v) => (v.fuelLitres == null ? '–' : v.fuelLitres.toFixed(1)),
  time: (iso) => `${timeFormat.format(new Date(iso))} WITA`,
};

// ---------------------------------------------------------------- state

let session = null; // the running map session, stopped on logout

function startSession(key) {
  const vehicles = new Map(); // vehicleId -> { vehicleId, plateNumber, departmentId, at, lat, lon, speedKmh, headingDeg, fuelLitres, ignition, status }
  const fleet = new Map(); // vehicleId -> { plateNumber, departmentId, tankCapacityLitres } from GET /vehicles
  const departments = new Map(); // id -> name
  const markers = new Map(); // vehicleId -> { marker, el, tip }
  let socket = null;
  let retryTimer = null;
  let tickTimer = null;
  let attempt = 0;
  let stopped = false;
  let renderQueued = false;
  let fleetReload = null;
  let selected = null;

  const map = ensureMap();

  let alertTimer = null;

  async function api(path) {
    const res = await fetch(`/api/v1${path}`, { headers: { authorization: `Bearer ${key}` } });
    if (res.status === 401) throw new Unauthorized();
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
    return res.json();
  }

  async function post(path, body) {
    const res = await fetch(`/api/v1${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status === 401) throw new Unauthorized();
    return res;
  }

  async function loadReferenceData() {
    const [deps, vehs] = await Promise.all([api('/departments'), api('/vehicles')]);
    departments.clear();
    for (const d of deps) departments.set(d.id, d.name);
    for (const v of vehs) fleet.set(v.id, { plateNumber: v.plateNumber, departmentId: v.departmentId, tankCapacityLitres: v.tankCapacityLitres });
    for (const v of vehicles.values()) if (!v.plateNumber && fleet.has(v.vehicleId)) v.plateNumber = fleet.get(v.vehicleId).plateNumber;
    scheduleRender();
  }

  /** A vehicle the snapshot did not have (registered since): fetch the fleet again, once at a time. */
  function reloadFleetSoon() {
    fleetReload ??= new Promise((r) => setTimeout(r, 1000))
      .then(loadReferenceData)
      .catch((err) => (err instanceof Unauthorized ? unauthorized() : undefined))
      .finally(() => { fleetReload = null; });
  }

  function upsert(p) {
    const known = fleet.get(p.vehicleId);
    const prev = vehicles.get(p.vehicleId);
    if (prev && Date.parse(prev.at) > Date.parse(p.at)) return; // never move back in time
    let fuelLitres = p.fuelLitres ?? null;
    if (fuelLitres == null && p.fuelPercent != null && known?.tankCapacityLitres) fuelLitres = Math.round(p.fuelPercent * known.tankCapacityLitres) / 100;
    const v = {
      vehicleId: p.vehicleId,
      plateNumber: p.plateNumber ?? prev?.plateNumber ?? known?.plateNumber ?? null,
      departmentId: p.departmentId,
      at: p.at,
      lat: p.lat,
      lon: p.lon,
      speedKmh: p.speedKmh ?? null,
      headingDeg: p.headingDeg ?? null,
      fuelLitres: fuelLitres ?? (p.fuelPercent == null ? null : prev?.fuelLitres ?? null),
      ignition: p.ignition ?? null,
    };
    v.status = vehicleStatus(v, Date.now());
    vehicles.set(v.vehicleId, v);
    if (!v.plateNumber) reloadFleetSoon();
  }

  // ---------------------------------------------------------------- live feed

  function setConn(state, text) {
    const el = $('conn');
    el.dataset.state = state;
    el.textContent = text;
  }

  function connect() {
    if (stopped) return;
    setConn(attempt === 0 ? 'connecting' : 'reconnecting', attempt === 0 ? 'connecting…' : 'reconnecting…');
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/live?token=${encodeURIComponent(key)}`);
    socket = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      attempt = 0;
      setConn('live', 'live');
      if (fleet.size === 0) reloadFleetSoon(); // the first load failed: department names and plates
      // From now on new alerts are pushed; those raised before (or while the feed was down) are listed by the API.
      loadAlerts();
    };
    ws.onmessage = (event) => {
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      if (msg.type === 'snapshot') {
        vehicles.clear();
        for (const v of msg.vehicles) upsert(v);
        scheduleRender();
      } else if (msg.type === 'positions') {
        for (const p of msg.positions) upsert(p);
        scheduleRender();
      } else if (msg.type === 'alert') {
        alertPushed(msg);
      }
    };
    ws.onclose = async () => {
      if (socket !== ws || stopped) return;
      socket = null;
      // A refused upgrade looks like any failed connection to a page: ask the REST API whether the key still holds.
      let why = '';
      if (!opened) {
        try {
          await api('/departments');
        } catch (err) {
          if (err instanceof Unauthorized) return unauthorized();
          why = err instanceof TypeError ? ' (server unreachable)' : ` (${err.message.replace(/^.*: /, '')})`;
        }
      }
      if (stopped) return;
      attempt += 1;
      const delay = Math.min(30_000, 1000 * 2 ** Math.min(attempt - 1, 5)) * (0.75 + Math.random() * 0.5);
      let left = Math.round(delay / 1000);
      setConn('reconnecting', `offline${why}, retrying in ${left} s`);
      const countdown = setInterval(() => {
        left -= 1;
        if (left > 0) setConn('reconnecting', `offline${why}, retrying in ${left} s`);
      }, 1000);
      retryTimer = setTimeout(() => {
        clearInterval(countdown);
        connect();
      }, delay);
      retryTimer.countdown = countdown;
    };
  }

  function unauthorized() {
    logout('That API key was not accepted (401): it is wrong, revoked or expired. Enter a valid key.');
  }

  // ---------------------------------------------------------------- rendering

  function scheduleRender() {
    if (renderQueued) return;
    renderQueued = true;
    setTimeout(() => {
      renderQueued = false;
      render();
    }, 50);
  }

  function label(v) {
    return v.plateNumber ?? v.vehicleId.slice(0, 8);
  }

  function departmentName(v) {
    return departments.get(v.departmentId) ?? '';
  }

  function markerFor(v) {
    let m = markers.get(v.vehicleId);
    if (m) return m;
    const el = document.createElement('div');
    el.className = 'vm';
    el.dataset.vehicleId = v.vehicleId;
    const svgNs = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(svgNs, 'svg');
    svg.setAttribute('viewBox', '0 0 28 28');
    svg.setAttribute('class', 'vm-arrow');
    const shape = document.createElementNS(svgNs, 'path');
    svg.append(shape);
    const text = document.createElement('span');
    text.className = 'vm-label';
    el.append(svg, text);
    const tip = document.createElement('div');
    tip.className = 'vm-tip';
    const marker = L.marker([v.lat, v.lon], {
      icon: L.divIcon({ html: el, className: 'vehicle-marker', iconSize: [28, 28], iconAnchor: [14, 14] }),
      keyboard: true,
      title: '',
    });
    marker.bindTooltip(tip, { direction: 'top', offset: [0, -14] });
    marker.on('click', () => select(v.vehicleId, false));
    marker.addTo(map);
    m = { marker, el, tip, svg, shape, text };
    markers.set(v.vehicleId, m);
    return m;
  }

  function updateMarker(v) {
    const m = markerFor(v);
    m.marker.setLatLng([v.lat, v.lon]);
    m.el.dataset.status = v.status;
    m.el.dataset.plate = label(v);
    m.text.textContent = label(v);
    // An arrow along the heading when there is one, else a dot.
    if (v.headingDeg != null) {
      m.shape.setAttribute('d', 'M14 2 L24 25 L14 19 L4 25 Z');
      m.svg.style.transform = `rotate(${v.headingDeg}deg)`;
    } else {
      m.shape.setAttribute('d', 'M14 5 a9 9 0 1 0 0.001 0 Z');
      m.svg.style.transform = '';
    }
    const lines = [
      ['b', label(v)],
      ['div', departmentName(v)],
      ['div', `${v.status} · ${fmt.speed(v)} km/h`],
      ['div', `fuel ${fmt.fuel(v)} L`],
      ['div', `last fix ${fmt.time(v.at)}`],
    ];
    m.tip.replaceChildren(...lines.filter(([, t]) => t).map(([tag, t]) => Object.assign(document.createElement(tag), { textContent: t })));
    if (m.marker.isTooltipOpen()) m.marker.getTooltip().update();
  }

  function render() {
    const nowMs = Date.now();
    const counts = Object.fromEntries(STATUSES.map((s) => [s, 0]));
    for (const v of vehicles.values()) {
      v.status = vehicleStatus(v, nowMs);
      counts[v.status] += 1;
      updateMarker(v);
    }
    for (const [id, m] of markers) {
      if (!vehicles.has(id)) {
        m.marker.remove();
        markers.delete(id);
      }
    }
    for (const li of $('counts').children) li.querySelector('b').textContent = String(counts[li.dataset.status]);

    const needle = $('filter').value.trim().toLowerCase();
    const rows = [...vehicles.values()]
      .filter((v) => !needle || label(v).toLowerCase().includes(needle) || departmentName(v).toLowerCase().includes(needle))
      .sort((a, b) => label(a).localeCompare(label(b), undefined, { numeric: true }));
    $('vehicle-list').replaceChildren(...rows.map(row));
    $('empty').hidden = rows.length > 0;
  }

  function row(v) {
    const tr = document.createElement('tr');
    tr.dataset.vehicleId = v.vehicleId;
    tr.dataset.status = v.status;
    if (v.vehicleId === selected) tr.className = 'selected';
    const plate = document.createElement('td');
    plate.append(
      Object.assign(document.createElement('span'), { className: 'plate', textContent: label(v) }),
      Object.assign(document.createElement('span'), { className: 'dept', textContent: departmentName(v) }),
    );
    const status = document.createElement('td');
    status.className = 'status';
    status.append(Object.assign(document.createElement('span'), { className: 'dot' }), ` ${v.status}`);
    status.querySelector('.dot').dataset.status = v.status;
    const speed = Object.assign(document.createElement('td'), { className: 'num speed', textContent: fmt.speed(v) });
    const fuel = Object.assign(document.createElement('td'), { className: 'num fuel', textContent: fmt.fuel(v) });
    tr.append(plate, status, speed, fuel);
    tr.title = `${label(v)}${departmentName(v) ? `, ${departmentName(v)}` : ''}: last fix ${fmt.time(v.at)}`;
    tr.addEventListener('click', () => select(v.vehicleId, true));
    return tr;
  }

  function select(vehicleId, pan) {
    selected = vehicleId;
    const v = vehicles.get(vehicleId);
    const m = markers.get(vehicleId);
    if (pan && v && m) {
      map.setView([v.lat, v.lon], Math.max(map.getZoom(), 15));
      m.marker.openTooltip();
    }
    for (const tr of $('vehicle-list').children) tr.classList.toggle('selected', tr.dataset.vehicleId === vehicleId);
    for (const li of $('alert-list').children) li.classList.toggle('selected', li.dataset.vehicleId === vehicleId);
  }

  // ---------------------------------------------------------------- alerts

  let shownAlerts = []; // unacknowledged alerts, in the order listed (newest first)
  const alertItems = new Map(); // alert id -> its <li>, kept so a typed note or an error survives new alerts
  const acknowledgedHere = new Set(); // ids this page acknowledged: a list fetched before that must not bring them back
  let moreAlerts = false; // the API has more unacknowledged alerts than the list shows
  let alertsLoaded = false;
  let alertsLoading = false;
  let alertsAgain = false;
  let pushedDuringLoad = null; // alerts pushed while a list request runs: it may not have them

  /** The unacknowledged alerts from the API, newest first; alerts pushed meanwhile stay on top. */
  async function loadAlerts() {
    if (stopped) return;
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
          list = await api(`/alerts?unacknowledged=true&limit=${ALERTS_SHOWN}&from=${encodeURIComponent(from)}`);
        } catch (err) {
          if (err instanceof Unauthorized) return unauthorized();
          if (!stopped) setAlertsStatus(`Alerts could not be loaded${err instanceof TypeError ? ' (server unreachable)' : ` (${err.message.replace(/^.*: /, '')})`}; trying again soon.`);
          return;
        }
        if (stopped) return;
        const listed = new Set(list.map((a) => a.id));
        const pushed = pushedDuringLoad.filter((a) => !listed.has(a.id)).reverse();
        moreAlerts = list.length >= ALERTS_SHOWN;
        alertsLoaded = true;
        setAlertsStatus('');
        showAlerts([...pushed, ...list]);
      } while (alertsAgain && !stopped);
    } finally {
      alertsLoading = false;
      pushedDuringLoad = null;
    }
  }

  function alertPushed(a) {
    if (a.acknowledgedAt || acknowledgedHere.has(a.id)) return;
    pushedDuringLoad?.push(a);
    if (shownAlerts.some((s) => s.id === a.id)) return; // already listed (fetched, or pushed twice)
    alertsLoaded = true;
    showAlerts([a, ...shownAlerts]);
  }

  function setAlertsStatus(text) {
    const el = $('alerts-status');
    el.textContent = text;
    el.hidden = !text;
  }

  /** Makes the list these alerts, in this order, moving as few items as it can (a focused note keeps its focus). */
  function showAlerts(list) {
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
    const ol = $('alert-list');
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
        li = alertItem(a);
        alertItems.set(a.id, li);
      }
      if (ol.children[i] !== li) ol.insertBefore(li, ol.children[i] ?? null);
    });
    // Focus does not fall back to the page when the alert it was in goes: the alert now in its place (or the summary) takes it.
    if (refocus >= 0) (ol.children[Math.min(refocus, ol.children.length - 1)]?.querySelector('.alert-show') ?? $('alerts').querySelector('summary')).focus();
    const count = $('alert-count');
    count.textContent = `${list.length}${moreAlerts ? '+' : ''}`;
    count.dataset.count = String(list.length);
    $('alerts-empty').hidden = !alertsLoaded || list.length > 0;
  }

  function alertItem(a) {
    const kind = ALERT_KINDS[a.kind] ?? a.kind.replaceAll('_', ' ');
    const plate = a.plateNumber ?? fleet.get(a.vehicleId)?.plateNumber ?? a.vehicleId.slice(0, 8);
    const li = document.createElement('li');
    li.className = 'alert';
    if (a.vehicleId === selected) li.classList.add('selected');
    li.dataset.alertId = String(a.id);
    li.dataset.kind = a.kind;
    li.dataset.vehicleId = a.vehicleId;

    const show = Object.assign(document.createElement('button'), { type: 'button', className: 'alert-show', title: `Show ${plate} on the map` });
    const time = Object.assign(document.createElement('time'), { className: 'alert-time', dateTime: a.at, textContent: fmt.time(a.at) });
    show.append(
      Object.assign(document.createElement('span'), { className: 'alert-kind', textContent: kind }),
      Object.assign(document.createElement('span'), { className: 'alert-plate', textContent: plate }),
      time,
      Object.assign(document.createElement('span'), { className: 'alert-message', textContent: a.message }),
    );
    show.addEventListener('click', () => showAlertVehicle(a));

    const form = Object.assign(document.createElement('form'), { className: 'alert-ack' });
    const note = Object.assign(document.createElement('input'), {
      type: 'text',
      className: 'alert-note',
      maxLength: 1000,
      placeholder: 'Note (optional)',
      autocomplete: 'off',
    });
    note.setAttribute('aria-label', `Note on acknowledging the ${kind.toLowerCase()} alert of ${plate} (optional)`);
    const button = Object.assign(document.createElement('button'), { type: 'submit', className: 'alert-ack-button', textContent: 'Acknowledge' });
    form.append(note, button);
    const error = Object.assign(document.createElement('p'), { className: 'alert-error', hidden: true });
    error.setAttribute('role', 'alert');
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (button.getAttribute('aria-disabled') !== 'true') acknowledge(a, { note, button, error });
    });

    li.append(show, form, error);
    return li;
  }

  function showAlertVehicle(a) {
    if (vehicles.has(a.vehicleId)) return select(a.vehicleId, true);
    // No position of the vehicle on the map (yet): at least show where the alert happened.
    select(a.vehicleId, false);
    if (a.lat != null && a.lon != null) map.setView([a.lat, a.lon], Math.max(map.getZoom(), 15));
  }

  async function acknowledge(a, { note, button, error }) {
    // aria-disabled, not disabled: the button keeps the keyboard focus while the request runs.
    button.setAttribute('aria-disabled', 'true');
    button.textContent = 'Acknowledging…';
    error.hidden = true;
    const text = note.value.trim();
    let failure;
    try {
      const res = await post(`/alerts/${a.id}/acknowledge`, text ? { note: text } : {});
      if (res.ok) {
        acknowledgedHere.add(a.id);
        if (!stopped) showAlerts(shownAlerts);
        if (moreAlerts) loadAlerts(); // the next one moves up into the list
        return;
      }
      // A viewer's or finance key gets 403: the API says why; the alert stays.
      const body = await res.json().catch(() => null);
      failure = body?.error?.message ?? `HTTP ${res.status}`;
    } catch (err) {
      if (err instanceof Unauthorized) return unauthorized();
      failure = err instanceof TypeError ? 'the server could not be reached; try again.' : err.message;
    }
    if (stopped) return;
    button.removeAttribute('aria-disabled');
    button.textContent = 'Acknowledge';
    error.textContent = `Not acknowledged: ${failure}`;
    error.hidden = false;
  }

  const onFilter = () => render();
  $('filter').addEventListener('input', onFilter);

  // ---------------------------------------------------------------- start and stop

  (async () => {
    try {
      await loadReferenceData();
    } catch (err) {
      if (err instanceof Unauthorized) return unauthorized();
      // The API may be restarting: the live feed's reconnects will keep trying.
    }
    if (stopped) return;
    connect();
    // Vehicles go offline without any message: recompute statuses now and then.
    tickTimer = setInterval(render, 30_000);
    alertTimer = setInterval(() => {
      if (socket?.readyState === WebSocket.OPEN) loadAlerts();
    }, ALERTS_REFRESH_MS);
  })();

  return {
    stop() {
      stopped = true;
      clearTimeout(retryTimer);
      if (retryTimer) clearInterval(retryTimer.countdown);
      clearInterval(tickTimer);
      clearInterval(alertTimer);
      $('filter').removeEventListener('input', onFilter);
      socket?.close();
      socket = null;
      for (const m of markers.values()) m.marker.remove();
      markers.clear();
      $('vehicle-list').replaceChildren();
      $('alert-list').replaceChildren();
      alertItems.clear();
      $('alert-count').textContent = '0';
      $('alert-count').dataset.count = '0';
      $('alerts-empty').hidden = true;
      setAlertsStatus('');
    },
  };
}

// ---------------------------------------------------------------- map

let leafletMap = null;

function ensureMap() {
  if (leafletMap) return leafletMap;
  leafletMap = L.map('map', { zoomControl: true }).setView(KUPANG, 13);
  // Tiles need the user's internet; without them the markers still show on a grey map.
  L.tileLayer('https://tile.openstreetmap.org/{z}/{x}/{y}.png', {
    maxZoom: 19,
    attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
  }).addTo(leafletMap);
  const labels = () => leafletMap.getContainer().classList.toggle('labels-off', leafletMap.getZoom() < LABELS_FROM_ZOOM);
  leafletMap.on('zoomend', labels);
  labels();
  return leafletMap;
}

// ---------------------------------------------------------------- key form

function showLogin(message) {
  $('map-view').hidden = true;
  $('login-view').hidden = false;
  const error = $('login-error');
  error.textContent = message ?? '';
  error.hidden = !message;
  $('login-key').focus();
}

function showMap(key) {
  $('login-view').hidden = true;
  $('map-view').hidden = false;
  session?.stop();
  session = startSession(key);
  leafletMap?.invalidateSize();
}

function logout(message) {
  session?.stop();
  session = null;
  localStorage.removeItem(KEY_STORAGE);
  showLogin(message);
}

function keyFromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const key = params.get('key');
  if (key === null) return null;
  // Out of the address bar, so it is not bookmarked or shared by accident.
  history.replaceState(null, '', location.pathname + location.search);
  return key.trim() || null;
}

function main() {
  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const key = $('login-key').value.trim();
    if (!key) return;
    $('login-key').value = '';
    localStorage.setItem(KEY_STORAGE, key);
    showMap(key);
  });
  $('logout').addEventListener('click', () => logout());

  const key = keyFromFragment() ?? localStorage.getItem(KEY_STORAGE);
  if (key) {
    localStorage.setItem(KEY_STORAGE, key);
    showMap(key);
  } else {
    showLogin();
  }
}

// `defer` scripts (Leaflet) run before module scripts, in document order.
main();
