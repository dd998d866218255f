// Finance: savings (a month or a year, by department and vehicle, in rupiah), the month's
// reconciliation (each purchase with its status and flags, the refuels without a receipt),
// the purchases ledger (paged, void with a reason, a form to record one, a fuel-card
// CSV import checked first), vouchers (issue, list), the price and station registers, and
// closing a month. Savings and reconciliation print for signing (style.css @media print).
// The API decides who may do what; the page only hides what the role cannot use.
// Each tab is a module under finance/; this one lays out the tabs and mounts them.

import { t } from '../i18n.js';
import { href } from '../router.js';
import { html, render } from '../ui.js';
import { TABS } from './finance/common.js';
import { Purchases } from './finance/purchases.js';
import { Reconciliation } from './finance/reconciliation.js';
import { Closings, Registers, Vouchers } from './finance/registers.js';
import { Savings } from './finance/savings.js';

// ---------------------------------------------------------------- the screen

const TAB_TITLES = {
  savings: 'fin.savingsTitle',
  reconciliation: 'fin.reconTitle',
  purchases: 'fin.purchasesTitle',
  vouchers: 'fin.vouchersTitle',
  registers: 'fin.registersTitle',
  closings: 'fin.closingsTitle',
};
const TAB_BODIES = {
  savings: Savings,
  reconciliation: Reconciliation,
  purchases: Purchases,
  vouchers: Vouchers,
  registers: Registers,
  closings: Closings,
};

function Finance({ ctx, route }) {
  const tab = TABS.includes(route.tab) ? route.tab : 'savings';
  // The period forms start from the route: a link to another period makes them anew.
  const key = tab === 'savings' || tab === 'reconciliation' ? `${tab}?${new URLSearchParams(route.params)}` : tab;
  const body = html`<${TAB_BODIES[tab]} key=${key} ctx=${ctx} route=${route} />`;
  return html`<section class="page finance" aria-labelledby="finance-title" data-tab=${tab}>
    <nav class="tabs no-print" aria-label=${t('fin.tabs')}>
      ${TABS.map(
        (x) => html`<a href=${href('finance', { tab: x })} data-tab=${x}
          aria-current=${x === tab ? 'page' : undefined}>${t(`fin.${x}`)}</a>`,
      )}
    </nav>
    <h1 id="finance-title" class="no-print">${t(TAB_TITLES[tab])}</h1>
    ${body}
  </section>`;
}

export function mountFinance(el, ctx, route) {
  // A tab change makes the tab anew (its own state); the same tab with other parameters updates in place.
  let tab = null;
  const draw = (r) => {
    if (tab !== null && tab !== r.tab) render(null, el);
    tab = r.tab;
    render(html`<${Finance} ctx=${ctx} route=${r} />`, el);
  };
  draw(route);
  return { update: draw, unmount: () => render(null, el) };
}
