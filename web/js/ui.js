// Preact + htm, served as ES modules from node_modules by the API (src/http/plugins/web.ts).
import { h, render } from '../vendor/preact.js';
import { useEffect, useLayoutEffect, useMemo, useRef, useState, useCallback } from '../vendor/preact-hooks.js';
import htm from '../vendor/htm.js';

export const html = htm.bind(h);
export { render, useEffect, useLayoutEffect, useMemo, useRef, useState, useCallback };

/** Re-renders the component when the page's language changes. */
import { onLangChange } from './i18n.js';
export function useLang() {
  const [, set] = useState(0);
  useEffect(() => onLangChange(() => set((n) => n + 1)), []);
}
