// The cart (#/cart): every line with its live price and stock state, quantity, selection and
// removal, the selected total and 去结算. Every change answers the whole cart, which replaces
// what is shown, so the page never computes a price itself.
import { html, useRef, useState } from '/ui/vendor/preact-htm.js';
import { formatYuan, specText } from '/ui/shared/format.js';
import { Img, useLoad } from '/ui/shared/ui.js';
import { api, Empty, ErrorText, Loading, navigate, Stepper, TopBar } from './lib.js';

function stateNote(line) {
  switch (line.state) {
    case 'short':
      return html`<span class="badge badge-warn">仅剩 ${line.available} 件</span>`;
    case 'out_of_stock':
      return html`<span class="badge badge-warn">无货</span>`;
    case 'unavailable':
      return html`<span class="badge">已失效</span>`;
    default:
      return null;
  }
}

function CartLine({ line, busy, change, select }) {
  const unavailable = line.state === 'unavailable';
  const title = line.title || '商品已不存在';
  const sku = encodeURIComponent(line.sku_id);
  return html`<li class=${`cart-line ${unavailable ? 'is-unavailable' : ''}`} data-sku=${line.sku_id}>
    <input type="checkbox" class="check" aria-label=${`选择 ${title}`} checked=${line.selected && !unavailable} disabled=${busy || unavailable}
      onChange=${(e) => select([line.sku_id], e.currentTarget.checked)} />
    ${line.product_id && !unavailable
      ? html`<a href=${`#/product/${line.product_id}`} aria-label=${title}><${Img} src=${line.image} class="thumb" /></a>`
      : html`<${Img} src=${line.image} class="thumb" />`}
    <div class="cart-line-body">
      <p class="line-title">${title}</p>
      <p class="muted small">${specText(line.specs)}</p>
      <p>${stateNote(line)}</p>
      <div class="line-bottom">
        <span class="price">${formatYuan(line.price)}</span>
        <${Stepper} value=${line.quantity} max=${99} disabled=${unavailable} busy=${busy} label=${`${title} 数量`}
          onChange=${(quantity) => change(() => api.put(`/api/v1/cart/items/${sku}`, { quantity }))} />
      </div>
      <button type="button" class="link-button" disabled=${busy} onClick=${() => change(() => api.del(`/api/v1/cart/items/${sku}`))}>删除</button>
    </div>
  </li>`;
}

export function CartPage() {
  const cart = useLoad(() => api.get('/api/v1/cart'), []);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);

  // change sends the edits one after another, in the order they were made (the quantity field
  // stays open while one is out, so a typed quantity may follow a tap), and shows the cart
  // each answers: the last answer is the cart after every edit.
  const queue = useRef(Promise.resolve());
  const waiting = useRef(0);
  const change = (send) => {
    waiting.current++;
    setBusy(true);
    setError(null);
    queue.current = queue.current.then(async () => {
      try {
        cart.setData(await send());
      } catch (err) {
        setError(err);
        cart.reload();
      } finally {
        waiting.current--;
        if (!waiting.current) setBusy(false);
      }
    });
    return queue.current;
  };

  // select ticks or clears lines (all of them when skuIds is empty) at once on the page, so
  // the box does not jump back while the request is out; the answer then brings the totals.
  const select = (skuIds, selected) => {
    const all = skuIds.length === 0;
    cart.setData({ ...cart.data, lines: cart.data.lines.map((l) => (all || skuIds.includes(l.sku_id) ? { ...l, selected } : l)) });
    return change(() => api.post('/api/v1/cart/selection', all ? { selected } : { sku_ids: skuIds, selected }));
  };

  if (cart.error && !cart.data) return html`<div class="page"><${TopBar} title="购物车" /><${ErrorText} error=${cart.error} /></div>`;
  if (!cart.data) return html`<div class="page"><${TopBar} title="购物车" /><${Loading} /></div>`;
  const { lines, selected_count: selectedCount, selected_total: selectedTotal, selected_quantity: selectedQuantity } = cart.data;
  if (!lines.length) {
    return html`<div class="page"><${TopBar} title="购物车" /><${Empty} text="购物车是空的"><a class="btn btn-primary" href="#/">去逛逛</a><//></div>`;
  }
  const selectable = lines.filter((l) => l.state !== 'unavailable');
  const allSelected = selectable.length > 0 && selectable.every((l) => l.selected);
  const problems = lines.filter((l) => l.selected && (l.state === 'short' || l.state === 'out_of_stock'));
  return html`<div class="page cart-page">
    <${TopBar} title=${`购物车（${lines.length}）`} />
    <${ErrorText} error=${error} />
    <ul class="cart-lines">
      ${lines.map((line) => html`<${CartLine} key=${line.sku_id} line=${line} busy=${busy} change=${change} select=${select} />`)}
    </ul>
    ${problems.length > 0 && html`<p class="notice">有 ${problems.length} 件选中的商品库存不足，请修改数量或取消选择后再结算。</p>`}
    <div class="action-bar checkout-bar">
      <label class="select-all">
        <input type="checkbox" checked=${allSelected} disabled=${busy || !selectable.length}
          onChange=${(e) => select([], e.currentTarget.checked)} />
        全选
      </label>
      <span class="total">合计 <strong class="price" data-testid="cart-total">${formatYuan(selectedTotal)}</strong></span>
      <button type="button" class="btn btn-primary" disabled=${busy || selectedCount === 0} onClick=${() => navigate('/checkout')}>
        去结算${selectedQuantity > 0 ? `（${selectedQuantity}）` : ''}
      </button>
    </div>
  </div>`;
}
