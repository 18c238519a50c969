// What every storefront page shares: the buyer's API client and session, the hash router, paged
// lists and polling, and the small pieces of UI (error text, the quantity stepper, the top bar,
// toasts). Images and data loading come from web/shared/ui.js, shared with the console.
import { html, useEffect, useRef, useState } from '/ui/vendor/preact-htm.js';
import { createApi, errorMessage } from '/ui/shared/api.js';
import { withQuery } from '/ui/shared/url.js';

// ---- routing ----------------------------------------------------------------------------

// parseHash splits "#/search?q=%E6%89%8B%E6%9C%BA" into its path ("/search") and query.
export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#/, '');
  const i = raw.indexOf('?');
  const path = (i < 0 ? raw : raw.slice(0, i)) || '/';
  const query = new URLSearchParams(i < 0 ? '' : raw.slice(i + 1));
  const q = query.toString();
  return { path, query, full: q ? `${path}?${q}` : path };
}

// navigate goes to a route ("/cart", "/search?q=…"); replace keeps the browser's back button
// from returning to the page being left (a login form, a checkout already submitted).
export function navigate(to, { replace = false } = {}) {
  const hash = `#${to}`;
  if (location.hash === hash) return;
  if (replace) location.replace(hash);
  else location.hash = to;
}

// loginRoute is the login form that leads back to next ("/" needs no saying).
export function loginRoute(next, { expired = false } = {}) {
  return withQuery('/login', { next: next === '/' ? '' : next, expired: expired ? '1' : '' });
}

// ---- session ----------------------------------------------------------------------------

export const api = createApi({
  kind: 'buyer',
  // The refresh cookie expired or was revoked while the buyer was here: log in again and come
  // back to the same page.
  onSessionExpired() {
    const here = parseHash();
    if (here.path === '/login' || here.path === '/register') return;
    navigate(loginRoute(here.full, { expired: true }), { replace: true });
  },
});

// The refresh cookie of an earlier visit is tried once per page load; pages that need a buyer
// wait for that before sending anyone to the login form. When the server could not say (no
// network, 429, 5xx) the buyer may well be logged in: restoreError holds why, the page offers a
// retry (retryRestore) instead of the login form.
let restored = false;
let restoreError = null;
const restoreListeners = new Set();

function restoreSession() {
  restored = false;
  restoreError = null;
  for (const fn of restoreListeners) fn();
  api
    .restore()
    .catch((err) => {
      restoreError = err;
    })
    .finally(() => {
      restored = true;
      for (const fn of restoreListeners) fn();
    });
}
restoreSession();

export function retryRestore() {
  if (restored) restoreSession();
}

// useSession gives the logged-in buyer (or null), whether the session is known yet, and the
// error that kept it from being known.
export function useSession() {
  const [user, setUser] = useState(api.principal());
  const [state, setState] = useState({ ready: restored, error: restoreError });
  useEffect(() => {
    const stop = api.onChange(setUser);
    const onRestore = () => {
      setUser(api.principal());
      setState({ ready: restored, error: restoreError });
    };
    restoreListeners.add(onRestore);
    onRestore();
    return () => {
      stop();
      restoreListeners.delete(onRestore);
    };
  }, []);
  return { user, ready: state.ready, restoreError: state.error };
}

// ---- data loading -----------------------------------------------------------------------

// usePages loads a list one page at a time: page 1 whenever key changes, the next page, added
// below, on more(). loadPage(page) answers the API's page ({items, total}).
export function usePages(loadPage, key) {
  const empty = { items: [], page: 0, total: 0 };
  const [state, setState] = useState({ ...empty, loading: true, error: null });
  const generation = useRef(0);
  // A page is out: a second tap on 加载更多 before the first answer (the button has not
  // re-rendered yet) must not ask for the same page again.
  const busy = useRef(false);
  const load = (page, previous) => {
    const mine = generation.current;
    busy.current = true;
    setState({ ...previous, loading: true, error: null });
    loadPage(page).then(
      (res) => mine === generation.current && setState({ items: [...previous.items, ...res.items], page, total: res.total, loading: false, error: null }),
      (error) => mine === generation.current && setState({ ...previous, loading: false, error }),
    ).finally(() => {
      if (mine === generation.current) busy.current = false;
    });
  };
  useEffect(() => {
    generation.current++;
    load(1, empty);
  }, [key]);
  return {
    ...state,
    more: () => {
      if (!busy.current) load(state.page + 1, state);
    },
  };
}

// usePolling calls poll every intervalMs while active, one call at a time, skipping while the
// tab is hidden, and at most for limitMs (a payment confirmed later shows on the next visit).
export function usePolling(poll, { active, intervalMs = 2000, limitMs = 10 * 60 * 1000 }) {
  const latest = useRef(poll);
  latest.current = poll;
  useEffect(() => {
    if (!active) return undefined;
    const until = Date.now() + limitMs;
    let timer = 0;
    let stopped = false;
    const tick = async () => {
      if (stopped || Date.now() > until) return;
      if (!document.hidden) {
        try {
          await latest.current();
        } catch {
          // A failed poll is tried again on the next tick; the page shows what it had.
        }
      }
      if (!stopped) timer = setTimeout(tick, intervalMs);
    };
    timer = setTimeout(tick, intervalMs);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [active, intervalMs, limitMs]);
}

// The sandbox cashier and other providers' pages send the buyer back with the order number
// only (#/pay-result?order_no=…); the page remembers which order id a number is before leaving.
export function rememberPayment(order) {
  try {
    sessionStorage.setItem(`minimart.pay.${order.order_no}`, order.id);
  } catch {
    // Storage refused (private mode quotas): the pay-result page finds the order in the list.
  }
}

export function rememberedOrderId(orderNo) {
  try {
    return sessionStorage.getItem(`minimart.pay.${orderNo}`);
  } catch {
    return null;
  }
}

// forgetPayment drops the note once the order is no longer waiting for its payment.
export function forgetPayment(orderNo) {
  try {
    sessionStorage.removeItem(`minimart.pay.${orderNo}`);
  } catch {
    // Nothing was stored.
  }
}

// The category tree changes rarely and both the home page and the category page show it:
// fetch it once per page load.
let categoryTree = null;
export function loadCategories() {
  if (!categoryTree) {
    categoryTree = api.get('/api/v1/categories').catch((err) => {
      categoryTree = null;
      throw err;
    });
  }
  return categoryTree;
}

// ---- labels -----------------------------------------------------------------------------

export const orderStatusText = {
  pending_payment: '待付款',
  paid: '已支付',
  shipped: '已发货',
  completed: '已完成',
  cancelled: '已取消',
  refunding: '退款中',
  refunded: '已退款',
};

// ---- UI pieces --------------------------------------------------------------------------

// ErrorText shows any error a call threw as the readable message for its code.
export function ErrorText({ error, children }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${errorMessage(error)}${children}</p>`;
}

export function Loading({ text = '加载中…' }) {
  return html`<p class="muted center pad" aria-busy="true">${text}</p>`;
}

export function Empty({ text, children }) {
  return html`<div class="empty"><p>${text}</p>${children}</div>`;
}

// FieldError is the message next to one form field: the form's own check, or the API's.
export function FieldError({ text }) {
  return text ? html`<span class="field-error" role="alert">${text}</span>` : null;
}

// Stepper edits a whole quantity between min and max. A typed number counts once the buyer
// is done with it (leaving the field; Enter leaves it), so typing "12" sends one change, not "1" and
// then "12"; a field left with no number in it falls back to the last good value. busy (a
// change is out) disables the buttons only, never the field: the buyer keeps typing.
export function Stepper({ value, min = 1, max = 99, onChange, disabled = false, busy = false, label = '数量' }) {
  const [text, setText] = useState(String(value));
  useEffect(() => setText(String(value)), [value]);
  const commit = (n) => {
    const v = Math.min(Math.max(n, min), max);
    setText(String(v));
    if (v !== value) onChange(v);
  };
  const commitText = () => commit(/^\d+$/.test(text.trim()) ? Number(text.trim()) : value);
  return html`<div class="stepper" role="group" aria-label=${label}>
    <button type="button" aria-label="减少" disabled=${disabled || busy || value <= min} onClick=${() => commit(value - 1)}>−</button>
    <input type="text" inputmode="numeric" enterkeyhint="done" aria-label=${label} value=${text} disabled=${disabled}
      onInput=${(e) => setText(e.currentTarget.value)} onBlur=${commitText}
      onKeyDown=${(e) => e.key === 'Enter' && e.currentTarget.blur()} />
    <button type="button" aria-label="增加" disabled=${disabled || busy || value >= max} onClick=${() => commit(value + 1)}>+</button>
  </div>`;
}

// TopBar is the header of a page below the home page: a back button and the title.
export function TopBar({ title, back = '/' }) {
  const goBack = () => {
    if (history.length > 1) history.back();
    else navigate(back, { replace: true });
  };
  return html`<header class="topbar">
    <button type="button" class="back" aria-label="返回" onClick=${goBack}>‹</button>
    <h1>${title}</h1>
  </header>`;
}

// Confirm is an inline yes/no for an action that cannot be undone (no native dialogs: they
// block the page and cannot be styled).
export function ConfirmButton({ label, question, confirmLabel, onConfirm, busy = false, class: cls = 'btn' }) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return html`<button type="button" class=${cls} disabled=${busy} onClick=${() => setAsking(true)}>${label}</button>`;
  }
  return html`<span class="confirm">
    <span>${question}</span>
    <button type="button" class="btn btn-danger" disabled=${busy} onClick=${async () => {
      await onConfirm();
      setAsking(false);
    }}>${confirmLabel}</button>
    <button type="button" class="btn" onClick=${() => setAsking(false)}>再想想</button>
  </span>`;
}

// Toast shows a short note at the bottom of the screen; showToast can be called from anywhere.
const toastListeners = new Set();
export function showToast(text) {
  for (const fn of toastListeners) fn(text);
}
export function Toast() {
  const [text, setText] = useState('');
  useEffect(() => {
    let timer = 0;
    const on = (t) => {
      setText(t);
      clearTimeout(timer);
      timer = setTimeout(() => setText(''), 2200);
    };
    // A note belongs to the page it was shown on.
    const clear = () => setText('');
    toastListeners.add(on);
    addEventListener('hashchange', clear);
    return () => {
      clearTimeout(timer);
      toastListeners.delete(on);
      removeEventListener('hashchange', clear);
    };
  }, []);
  return text ? html`<div class="toast" role="status">${text}</div>` : null;
}
