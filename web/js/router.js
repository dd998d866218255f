// Hash routes: #/map, #/vehicle/:id?from=YYYY-MM-DD&to=YYYY-MM-DD, #/reports?from&to&departmentId,
// #/alerts, #/settings, #/finance/{savings|reconciliation|purchases}?month|year&departmentId. The days in a route are WITA report days.

export function parseRoute(hash = location.hash) {
  const [path, q = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  const params = Object.fromEntries(new URLSearchParams(q));
  switch (parts[0]) {
    case 'vehicle':
      return { screen: 'history', id: parts[1] ? decodeURIComponent(parts[1]) : null, params };
    case 'reports':
      return { screen: 'reports', params };
    case 'alerts':
      return { screen: 'alerts', params };
    case 'settings':
      return { screen: 'settings', params };
    case 'finance':
      return { screen: 'finance', tab: parts[1] ?? 'savings', params };
    default:
      return { screen: 'map', params };
  }
}

export function href(screen, { id, tab, ...params } = {}) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '')).toString();
  const path =
    screen === 'history' ? `#/vehicle${id ? `/${encodeURIComponent(id)}` : ''}` : `#/${screen}${tab ? `/${encodeURIComponent(tab)}` : ''}`;
  return q ? `${path}?${q}` : path;
}

export function navigate(screen, params, { replace = false } = {}) {
  const target = href(screen, params);
  if (replace) history.replaceState(null, '', target);
  else location.hash = target;
}
