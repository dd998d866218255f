// Armada's web app: a key form, then the screens, chosen by the address's #fragment.
// Plain ES modules, no build step; the libraries come from node_modules through the API
// (src/http/plugins/web.ts). Leaflet is the global `L` (a `defer` script, run before this module).

import { createApi } from './api.js';
import { getLang, onLangChange, setLang, t } from './i18n.js';
import { parseRoute } from './router.js';
import { mountLive } from './screens/live.js';
import { mountHistory } from './screens/history.js';
import { mountReports } from './screens/reports.js';
import { mountAlerts } from './screens/alerts.js';
import { mountSettings } from './screens/settings.js';
import { mountFinance } from './screens/finance.js';

const KEY_STORAGE = 'armada.apiKey';
const $ = (id) => document.getElementById(id);
const screens = {
  map: mountLive,
  history: mountHistory,
  reports: mountReports,
  alerts: mountAlerts,
  settings: mountSettings,
  finance: mountFinance,
};

let ctx = null; // the signed-in session: { api, ref, reloadReference, role }
/** Roles that see the finance screens (a manager reads them; admin and finance write). */
const FINANCE_ROLES = new Set(['admin', 'finance', 'auditor', 'manager']);
let current = null; // { screen, key, instance }

function translateStatic() {
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  document.title = current ? `Armada — ${t(`nav.${current.screen === 'history' ? 'history' : current.screen}`)}` : 'Armada';
}

function showLogin(message) {
  unmount();
  ctx = null;
  $('app-view').hidden = true;
  $('login-view').hidden = false;
  const error = $('login-error');
  error.dataset.message = message ?? '';
  error.textContent = message ? t(message) : '';
  error.hidden = !message;
  $('login-key').focus();
}

function unmount() {
  current?.instance.unmount();
  current = null;
  $('view').replaceChildren();
}

function logout(messageKey) {
  localStorage.removeItem(KEY_STORAGE);
  showLogin(messageKey);
}

async function signIn(key) {
  const api = createApi(key, { onUnauthorized: () => logout('login.rejected') });
  const ref = { departments: new Map(), fleet: new Map() };
  const reloadReference = async () => {
    const [deps, vehs] = await Promise.all([api.get('/departments'), api.get('/vehicles')]);
    ref.departments = new Map(deps.map((d) => [d.id, d.name]));
    ref.fleet = new Map(vehs.map((v) => [v.id, v]));
  };
  ctx = { api, ref, reloadReference, role: null };
  try {
    const [, me] = await Promise.all([reloadReference(), api.get('/api-keys/current')]);
    ctx.role = me.role;
    ctx.departmentScoped = Boolean(me.departmentId);
  } catch {
    // 401 went to the key form; otherwise the API may be restarting: the screens try again.
    if (!ctx) return;
  }
  $('nav-finance').hidden = !FINANCE_ROLES.has(ctx.role);
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  route();
}

function route() {
  if (!ctx) return;
  const r = parseRoute();
  const key = `${r.screen}`;
  // The same screen with other parameters (another vehicle, another period) updates in place.
  if (current?.key === key && current.instance.update) {
    current.instance.update(r);
  } else {
    unmount();
    const el = document.createElement('div');
    el.className = `screen screen-${r.screen}`;
    $('view').append(el);
    current = { screen: r.screen, key, instance: screens[r.screen](el, ctx, r) };
  }
  for (const a of $('nav').querySelectorAll('a')) {
    if (a.dataset.screen === r.screen) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  translateStatic();
}

function keyFromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const key = params.get('key');
  if (key === null) return null;
  // Out of the address bar, so it is not bookmarked or shared by accident.
  history.replaceState(null, '', `${location.pathname}${location.search}#/map`);
  return key.trim() || null;
}

function main() {
  translateStatic();
  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const key = $('login-key').value.trim();
    if (!key) return;
    $('login-key').value = '';
    localStorage.setItem(KEY_STORAGE, key);
    signIn(key);
  });
  $('logout').addEventListener('click', () => logout());
  for (const b of document.querySelectorAll('.lang-switch')) b.addEventListener('click', () => setLang(getLang() === 'id' ? 'en' : 'id'));
  onLangChange(() => {
    const error = $('login-error');
    if (error.dataset.message) error.textContent = t(error.dataset.message);
    // A screen is made in one language: it is made again in the other (the live map reconnects).
    if (current) {
      unmount();
      route();
    }
    translateStatic();
  });
  window.addEventListener('hashchange', route);

  const key = keyFromFragment() ?? localStorage.getItem(KEY_STORAGE);
  if (key) {
    localStorage.setItem(KEY_STORAGE, key);
    signIn(key);
  } else {
    showLogin();
  }
}

main();
