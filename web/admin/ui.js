// The console's small component kit, styled after Element Plus (admin.css): buttons, tags,
// cards, form fields, tables, pagers, dialogs, toasts and a confirm box, plus the hook that
// runs an action once at a time. Images and data loading come from /ui/shared/ui.js, which
// the storefront uses too.
import { h, html, useState, useEffect, useRef, useCallback } from '/ui/vendor/preact-htm.js';
import { errorMessage, fieldErrors, ApiError } from '/ui/shared/api.js';
import { reasonText } from './reasons.js';

const cx = (...names) => names.filter(Boolean).join(' ');

export function Button({ kind = 'default', size, busy, disabled, onClick, type = 'button', title, class: extra, children, ...rest }) {
  return html`<button
    type=${type}
    class=${cx('el-btn', `el-btn--${kind}`, size && `el-btn--${size}`, busy && 'is-loading', extra)}
    disabled=${disabled || busy}
    title=${title}
    onClick=${onClick}
    ...${rest}
  >${busy ? html`<span class="el-spinner" aria-hidden="true"></span>` : null}${children}</button>`;
}

export function Tag({ kind = 'primary', children }) {
  return html`<span class=${`el-tag el-tag--${kind}`}>${children}</span>`;
}

export function Card({ title, extra, class: more, children }) {
  return html`<section class=${cx('el-card', more)}>
    ${title || extra ? html`<header class="el-card__header"><h2>${title}</h2><div class="el-card__extra">${extra}</div></header>` : null}
    <div class="el-card__body">${children}</div>
  </section>`;
}

export function PageHeader({ title, back, extra }) {
  return html`<div class="page-header">
    ${back ? html`<a class="page-header__back" href=${back}>‹ 返回</a>` : null}
    <h1>${title}</h1>
    <div class="page-header__extra">${extra}</div>
  </div>`;
}

// Field is one labelled row of a form with the error of its value under it. The first form
// control among its children (an input, select or textarea, or a component given an id) is
// what the label names: it gets the label's for= id, and the error or hint describes it.
let fieldSeq = 0;
const controlTags = new Set(['input', 'select', 'textarea']);

function linkControl(children, attrs) {
  let controlId = '';
  const link = (node) => {
    if (Array.isArray(node)) return node.map(link);
    if (controlId || !node || typeof node !== 'object' || !node.type) return node;
    const native = typeof node.type === 'string' && controlTags.has(node.type);
    const component = typeof node.type === 'function' && 'id' in node.props;
    if (!native && !component) return node;
    controlId = node.props.id || attrs.id;
    return h(node.type, { ...node.props, key: node.key, ref: node.ref, id: controlId, 'aria-describedby': attrs.describedBy, 'aria-invalid': attrs.invalid });
  };
  const linked = link(children);
  return { linked, controlId };
}

export function Field({ label, required, error, hint, class: more, children }) {
  const [autoId] = useState(() => `field-${++fieldSeq}`);
  const noteId = `${autoId}-note`;
  const { linked, controlId } = linkControl(children, {
    id: autoId,
    describedBy: error || hint ? noteId : undefined,
    invalid: error ? 'true' : undefined,
  });
  const labelClass = cx('el-form-item__label', required && 'is-required');
  return html`<div class=${cx('el-form-item', error && 'is-error', more)}>
    ${controlId ? html`<label class=${labelClass} for=${controlId}>${label}</label>` : html`<span class=${labelClass}>${label}</span>`}
    <div class="el-form-item__content">
      ${linked}
      ${error ? html`<div class="el-form-item__error" id=${noteId}>${error}</div>` : hint ? html`<div class="el-form-item__hint" id=${noteId}>${hint}</div>` : null}
    </div>
  </div>`;
}

export function Alert({ kind = 'error', children }) {
  return html`<div class=${`el-alert el-alert--${kind}`} role="alert">${children}</div>`;
}

// serverFieldErrors maps each field the API refused to its reason in Chinese where known.
export function serverFieldErrors(err) {
  return Object.fromEntries(Object.entries(fieldErrors(err)).map(([f, reason]) => [f, reasonText(reason)]));
}

// ErrorAlert shows an API failure readably: the code's text, the refused fields the form does
// not already show next to an input (named by labels when the form gives them), and the
// request id for anything that went wrong on the server.
export function ErrorAlert({ error, shown = [], labels = {} }) {
  if (!error) return null;
  const fields = Object.entries(serverFieldErrors(error)).filter(([f]) => !shown.includes(f));
  const server = error instanceof ApiError && error.status >= 500;
  return html`<${Alert} kind="error">
    <div class="el-alert__title">${errorMessage(error)}</div>
    ${fields.length
      ? html`<ul class="el-alert__list">${fields.map(([f, reason]) => html`<li key=${f}>${labels[f] || f}：${reason}</li>`)}</ul>`
      : null}
    ${server && error.requestId ? html`<div class="el-alert__meta">请求编号 ${error.requestId}</div>` : null}
  <//>`;
}

export function Loading({ text = '加载中…' }) {
  return html`<div class="el-loading"><span class="el-spinner" aria-hidden="true"></span>${text}</div>`;
}

export function Empty({ text = '暂无数据' }) {
  return html`<div class="el-empty">${text}</div>`;
}

// Table renders rows under columns { title, render(row) | key, class }; expand(row), when
// given, is shown under a row whose toggle was clicked.
export function Table({ columns, rows, rowKey = (r) => r.id, empty = '暂无数据', expand, loading }) {
  const [open, setOpen] = useState(() => new Set());
  const toggle = (key) =>
    setOpen((prev) => {
      const next = new Set(prev);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });
  const span = columns.length + (expand ? 1 : 0);
  return html`<div class=${cx('el-table', loading && 'is-loading')}>
    <table>
      <thead>
        <tr>
          ${expand ? html`<th class="el-table__expand-col"></th>` : null}
          ${columns.map((c) => html`<th key=${c.title} class=${c.class}>${c.title}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${rows && rows.length
          ? rows.map((row) => {
              const key = rowKey(row);
              const isOpen = open.has(key);
              return [
                html`<tr key=${key} class=${isOpen ? 'is-expanded' : ''}>
                  ${expand
                    ? html`<td class="el-table__expand-col">
                        <button type="button" class="el-table__expand" aria-expanded=${isOpen} aria-label="展开" onClick=${() => toggle(key)}>${isOpen ? '▾' : '▸'}</button>
                      </td>`
                    : null}
                  ${columns.map((c) => html`<td key=${c.title} class=${c.class}>${c.render ? c.render(row) : row[c.key]}</td>`)}
                </tr>`,
                isOpen ? html`<tr key=${`${key}-x`} class="el-table__expanded"><td colspan=${span}>${expand(row)}</td></tr>` : null,
              ];
            })
          : html`<tr><td colspan=${span} class="el-table__empty">${loading ? '加载中…' : empty}</td></tr>`}
      </tbody>
    </table>
  </div>`;
}

// Pagination for page-numbered lists (products, orders).
export function Pagination({ page, pageSize, total, onChange }) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  if (total <= pageSize && page === 1) return html`<div class="el-pagination"><span class="el-pagination__total">共 ${total} 条</span></div>`;
  const around = [];
  for (let p = Math.max(1, page - 2); p <= Math.min(pages, page + 2); p++) around.push(p);
  return html`<nav class="el-pagination" aria-label="分页">
    <span class="el-pagination__total">共 ${total} 条</span>
    <button type="button" class="el-pager" disabled=${page <= 1} onClick=${() => onChange(page - 1)} aria-label="上一页">‹</button>
    ${around[0] > 1 ? html`<button type="button" class="el-pager" onClick=${() => onChange(1)}>1</button>${around[0] > 2 ? html`<span class="el-pager__more">…</span>` : null}` : null}
    ${around.map((p) => html`<button type="button" key=${p} class=${cx('el-pager', p === page && 'is-active')} aria-current=${p === page ? 'page' : null} onClick=${() => onChange(p)}>${p}</button>`)}
    ${around[around.length - 1] < pages
      ? html`${around[around.length - 1] < pages - 1 ? html`<span class="el-pager__more">…</span>` : null}<button type="button" class="el-pager" onClick=${() => onChange(pages)}>${pages}</button>`
      : null}
    <button type="button" class="el-pager" disabled=${page >= pages} onClick=${() => onChange(page + 1)} aria-label="下一页">›</button>
  </nav>`;
}

// useCursorPages walks a cursor-paged list: the cursors of the pages seen so far make "上一页"
// possible. scope names the list's filters: when it changes, the walk starts again from the
// first page in the same render, so no request ever pairs the new filters with an old cursor.
export function useCursorPages(scope = '') {
  const [walk, setWalk] = useState({ scope, stack: [undefined] });
  const stack = walk.scope === scope ? walk.stack : [undefined];
  return {
    cursor: stack[stack.length - 1],
    pageNumber: stack.length,
    next: (nextCursor) => nextCursor && setWalk({ scope, stack: [...stack, nextCursor] }),
    prev: () => setWalk({ scope, stack: stack.length > 1 ? stack.slice(0, -1) : stack }),
    reset: () => setWalk({ scope, stack: [undefined] }),
  };
}

export function CursorPager({ pages, nextCursor }) {
  return html`<nav class="el-pagination" aria-label="分页">
    <span class="el-pagination__total">第 ${pages.pageNumber} 页</span>
    <button type="button" class="el-pager el-pager--wide" disabled=${pages.pageNumber <= 1} onClick=${pages.prev}>上一页</button>
    <button type="button" class="el-pager el-pager--wide" disabled=${!nextCursor} onClick=${() => pages.next(nextCursor)}>下一页</button>
  </nav>`;
}

const focusable = 'input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), button:not([disabled]), a[href], [contenteditable=true], [tabindex]:not([tabindex="-1"])';

// Dialog is a modal: on opening, focus moves to its first form field (or the dialog itself),
// Tab stays inside it, Escape closes it, and on closing focus goes back to where it was.
export function Dialog({ open, title, width = 'md', onClose, footer, children }) {
  const box = useRef(null);
  useEffect(() => {
    if (!open) return undefined;
    const before = document.activeElement;
    const first = box.current.querySelector('.el-dialog__body input:not([disabled]):not([type=hidden]), .el-dialog__body select, .el-dialog__body textarea');
    (first || box.current).focus();
    return () => {
      if (before && before.isConnected && typeof before.focus === 'function') before.focus();
    };
  }, [open]);
  if (!open) return null;
  const onKeyDown = (e) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      if (onClose) onClose();
      return;
    }
    if (e.key !== 'Tab') return;
    const items = Array.from(box.current.querySelectorAll(focusable));
    if (!items.length) return;
    const [first, last] = [items[0], items[items.length - 1]];
    if (e.shiftKey && (document.activeElement === first || document.activeElement === box.current)) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };
  return html`<div class="el-overlay" onClick=${(e) => e.target === e.currentTarget && onClose && onClose()}>
    <div class=${`el-dialog el-dialog--${width}`} role="dialog" aria-modal="true" aria-label=${title} tabindex="-1" ref=${box} onKeyDown=${onKeyDown}>
      <header class="el-dialog__header">
        <h3>${title}</h3>
        <button type="button" class="el-dialog__close" aria-label="关闭" onClick=${onClose}>×</button>
      </header>
      <div class="el-dialog__body">${children}</div>
      ${footer ? html`<footer class="el-dialog__footer">${footer}</footer>` : null}
    </div>
  </div>`;
}

// Tabs switches a list between views (the filter lives in the URL), so its items are toggle
// buttons: the one pressed is the view shown.
export function Tabs({ tabs, active, onChange, label = '筛选' }) {
  return html`<div class="el-tabs" role="group" aria-label=${label}>
    ${tabs.map(
      (t) => html`<button type="button" key=${t.key} aria-pressed=${t.key === active ? 'true' : 'false'} class=${cx('el-tabs__item', t.key === active && 'is-active')} onClick=${() => onChange(t.key)}>${t.label}</button>`,
    )}
  </div>`;
}

// Descriptions is Element's label/value grid for a record's details.
export function Descriptions({ items, columns = 3 }) {
  return html`<dl class=${`el-descriptions el-descriptions--${columns}`}>
    ${items
      .filter(Boolean)
      .map(([label, value]) => html`<div class="el-descriptions__item" key=${label}><dt>${label}</dt><dd>${value === '' || value == null ? '—' : value}</dd></div>`)}
  </dl>`;
}

// ---- toasts ----

let toastSeq = 0;
let toastList = [];
const toastListeners = new Set();

function setToasts(next) {
  toastList = next;
  for (const fn of toastListeners) fn(toastList);
}

export function toast(kind, text) {
  const id = ++toastSeq;
  setToasts([...toastList.slice(-2), { id, kind, text }]);
  setTimeout(() => setToasts(toastList.filter((t) => t.id !== id)), kind === 'error' ? 6000 : 3000);
}

export const toastError = (err) => toast('error', errorMessage(err));

export function Toasts() {
  const [list, setList] = useState(toastList);
  useEffect(() => {
    toastListeners.add(setList);
    return () => toastListeners.delete(setList);
  }, []);
  return html`<div class="el-message-stack" aria-live="polite">
    ${list.map((t) => html`<div key=${t.id} class=${`el-message el-message--${t.kind}`} role=${t.kind === 'error' ? 'alert' : 'status'}>${t.text}</div>`)}
  </div>`;
}

// ---- confirm box ----

let confirmState = null;
const confirmListeners = new Set();

// confirmAction asks before something that cannot be undone; resolves true on 确定.
export function confirmAction({ title = '请确认', message, okText = '确定', danger = false }) {
  return new Promise((resolve) => {
    confirmState = { title, message, okText, danger, resolve };
    for (const fn of confirmListeners) fn(confirmState);
  });
}

export function ConfirmHost() {
  const [state, setState] = useState(confirmState);
  useEffect(() => {
    confirmListeners.add(setState);
    return () => confirmListeners.delete(setState);
  }, []);
  const close = useCallback(
    (answer) => {
      if (!state) return;
      confirmState = null;
      setState(null);
      state.resolve(answer);
    },
    [state],
  );
  if (!state) return null;
  return html`<${Dialog}
    open
    width="sm"
    title=${state.title}
    onClose=${() => close(false)}
    footer=${html`<${Button} onClick=${() => close(false)}>取消<//><${Button} kind=${state.danger ? 'danger' : 'primary'} onClick=${() => close(true)}>${state.okText}<//>`}
  >
    <p class="confirm-text">${state.message}</p>
  <//>`;
}

// ---- hooks ----

// useFormAction is a dialog form's submit, run once at a time like useAction. act checks the
// form first and returns its field errors when the page refuses it (nothing is sent); else it
// sends. An API refusal shows its field errors next to the inputs and its message above them.
export function useFormAction(act) {
  const [errors, setErrors] = useState({});
  const [failure, setFailure] = useState(null);
  const [run, busy] = useAction(async () => {
    setErrors({});
    setFailure(null);
    try {
      const refused = await act();
      if (refused) setErrors(refused);
    } catch (err) {
      setErrors(serverFieldErrors(err));
      setFailure(err);
    }
  });
  return [run, busy, errors, failure];
}

// useAction wraps an async action so it runs once at a time: a second click while the first
// is in flight does nothing (the ref answers before the disabled button re-renders).
export function useAction(fn) {
  const running = useRef(false);
  const [busy, setBusy] = useState(false);
  const run = async (...args) => {
    if (running.current) return undefined;
    running.current = true;
    setBusy(true);
    try {
      return await fn(...args);
    } finally {
      running.current = false;
      setBusy(false);
    }
  };
  return [run, busy];
}

// ---- small helpers ----

// localDayStart turns "2026-12-01" into the RFC 3339 instant its day starts in this browser's
// zone (the merchant's), plusDays shifting it; the API takes UTC instants.
export function localDayStart(date, plusDays = 0) {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(y, m - 1, d + plusDays).toISOString();
}

export function localDate(d = new Date()) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

export function JSONBlock({ value }) {
  return html`<pre class="json-block">${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}</pre>`;
}
