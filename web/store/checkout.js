// Checkout (#/checkout for the cart's selected lines, #/checkout?product=…&sku=…&qty=… for
// 立即购买): the delivery address, the lines, the totals and a remark, then 提交订单.
//
// One checkout is one order: its Idempotency-Key is made when the page opens and sent again
// with every retry, and the button is disabled while a request is out, so a double click, a
// retry after a lost answer or a second tap all end in the same single order. After a lost
// answer or a server error the form is held as it was sent, so the retry is that very request
// (a changed body with the same key would be refused as idempotency_key_reused).
import { html, useMemo, useRef, useState } from '/ui/vendor/preact-htm.js';
import { fieldErrors, newIdempotencyKey } from '/ui/shared/api.js';
import { addressLine, formatYuan, specText } from '/ui/shared/format.js';
import { Img, useLoad } from '/ui/shared/ui.js';
import { AddressForm } from './addresses.js';
import { api, Empty, ErrorText, FieldError, Loading, navigate, TopBar } from './lib.js';

// loadLines reads what would be ordered, as order lines: the cart's selected lines that are on
// sale, or the one SKU of 立即购买.
async function loadLines(buyNow) {
  if (!buyNow) {
    const cart = await api.get('/api/v1/cart');
    return cart.lines
      .filter((l) => l.selected && l.state !== 'unavailable')
      .map((l) => ({ sku_id: l.sku_id, title: l.title, specs: l.specs, image: l.image, price: l.price, quantity: l.quantity, state: l.state, available: l.available }));
  }
  const product = await api.get(`/api/v1/products/${buyNow.product}`);
  const sku = product.skus.find((s) => s.id === buyNow.sku);
  if (!sku) return [];
  return [{
    sku_id: sku.id, title: product.title, specs: sku.specs, image: sku.image || product.images[0], price: sku.price, quantity: buyNow.quantity,
    state: sku.stock >= buyNow.quantity ? 'in_stock' : sku.stock > 0 ? 'short' : 'out_of_stock', available: sku.stock,
  }];
}

// shortageText explains a 409 out_of_stock per SKU, with the titles of the lines on the page.
function shortageText(err, lines) {
  if (err.code !== 'out_of_stock' || !Array.isArray(err.details.skus)) return '';
  return err.details.skus
    .filter((s) => typeof s === 'object')
    .map((s) => {
      const line = lines.find((l) => l.sku_id === s.sku_id);
      const name = line ? `「${line.title}${line.specs ? ` ${specText(line.specs)}` : ''}」` : '有商品';
      return s.available > 0 ? `${name}只剩 ${s.available} 件（要买 ${s.requested} 件）` : `${name}已无货`;
    })
    .join('；');
}

// unsure tells whether a failed order request may have been done all the same: the answer was
// lost (network_error) or the server failed (5xx) after it may have stored the order.
function unsure(err) {
  return err.status === 0 || err.status >= 500;
}

// openPendingOrder goes to the buyer's newest unpaid order, the one this checkout's key made;
// false when there is none.
async function openPendingOrder() {
  try {
    const res = await api.get('/api/v1/orders', { query: { status: 'pending_payment', page: 1, page_size: 1 } });
    if (!res.items.length) return false;
    navigate(`/pay/${res.items[0].id}`, { replace: true });
    return true;
  } catch {
    return false;
  }
}

function AddressPicker({ addresses, chosen, onChoose, onAdded, disabled }) {
  const [adding, setAdding] = useState(addresses.length === 0);
  if (adding) {
    return html`<div>
      <h3 class="section-title">新增收货地址</h3>
      <${AddressForm} makeDefault=${addresses.length === 0} onSaved=${(a) => (setAdding(false), onAdded(a))}
        onCancel=${addresses.length ? () => setAdding(false) : undefined} />
    </div>`;
  }
  return html`<div>
    <div class="address-options" role="radiogroup" aria-label="收货地址">
      ${addresses.map(
        (a) => html`<label key=${a.id} class=${`address-option ${a.id === chosen ? 'picked' : ''}`}>
          <input type="radio" name="address" value=${a.id} checked=${a.id === chosen} disabled=${disabled} onChange=${() => onChoose(a.id)} />
          <span><strong>${a.recipient}</strong> ${a.phone} ${a.is_default && html`<span class="badge badge-primary">默认</span>`}<br />
            <span class="muted">${addressLine(a)}</span></span>
        </label>`,
      )}
    </div>
    ${!disabled && html`<button type="button" class="link-button" onClick=${() => setAdding(true)}>+ 新增收货地址</button>`}
  </div>`;
}

export function CheckoutPage({ query }) {
  const buyNow = query.get('sku')
    ? { product: query.get('product'), sku: query.get('sku'), quantity: Number(query.get('qty') || '1') }
    : null;
  const source = buyNow ? `${buyNow.product}/${buyNow.sku}/${buyNow.quantity}` : 'cart';
  const data = useLoad(async () => {
    const [lines, addresses] = await Promise.all([loadLines(buyNow), api.get('/api/v1/me/addresses')]);
    return { lines, addresses: addresses.items };
  }, [source]);
  const idempotencyKey = useRef(newIdempotencyKey());
  const inFlight = useRef(false);
  // The body of an order request whose outcome is unknown (no answer, or a server error).
  const sent = useRef(null);
  const [addressId, setAddressId] = useState(null);
  const [remark, setRemark] = useState('');
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState(null);
  const [problems, setProblems] = useState({});

  const lines = data.data ? data.data.lines : [];
  const itemsTotal = useMemo(() => lines.reduce((sum, l) => sum + l.price * l.quantity, 0), [lines]);

  if (data.error) return html`<div class="page"><${TopBar} title="确认订单" /><${ErrorText} error=${data.error} /></div>`;
  if (!data.data) return html`<div class="page"><${TopBar} title="确认订单" /><${Loading} /></div>`;
  const addresses = data.data.addresses;
  const chosen = addressId || (addresses.find((a) => a.is_default) || addresses[0] || {}).id || null;

  if (!lines.length) {
    return html`<div class="page"><${TopBar} title="确认订单" />
      <${Empty} text="没有可以结算的商品"><a class="btn" href="#/cart">回到购物车</a><//></div>`;
  }
  const invalidQuantity = buyNow && (!Number.isInteger(buyNow.quantity) || buyNow.quantity < 1 || buyNow.quantity > 99);

  const submit = async () => {
    if (inFlight.current) return;
    let body = sent.current;
    if (!body) {
      const found = {};
      if (!chosen) found.address_id = '请选择或新增收货地址';
      if ([...remark].length > 200) found.remark = '备注最多 200 个字';
      setProblems(found);
      if (Object.keys(found).length || invalidQuantity) return;
      body = buyNow
        ? { items: [{ sku_id: buyNow.sku, quantity: buyNow.quantity }], address_id: chosen }
        : { from_cart: true, address_id: chosen };
      if (remark.trim()) body.remark = remark.trim();
    }
    setError(null);
    inFlight.current = true;
    setSubmitting(true);
    try {
      const order = await api.post('/api/v1/orders', body, { idempotencyKey: idempotencyKey.current });
      navigate(`/pay/${order.id}`, { replace: true });
    } catch (err) {
      if (unsure(err)) {
        // The order may exist: the retry must be this very request, which the key makes the
        // same order. The form stays as it was sent until an answer comes.
        sent.current = body;
      } else if (err.code === 'idempotency_key_reused') {
        // This checkout's key already made an order (sent from another tab, or before a lost
        // answer): that order is the one to pay.
        if (await openPendingOrder()) return;
        sent.current = null;
      } else {
        // A definite refusal: no order was made and the key is free again, so the buyer may
        // change the form and submit once more.
        sent.current = null;
      }
      setError(err);
      setProblems(fieldErrors(err));
    } finally {
      inFlight.current = false;
      setSubmitting(false);
    }
  };
  const frozen = Boolean(sent.current);

  const shortage = error ? shortageText(error, lines) : '';
  return html`<div class="page checkout-page">
    <${TopBar} title="确认订单" />
    <section class="card">
      <h3 class="section-title">收货地址</h3>
      <${AddressPicker} addresses=${addresses} chosen=${chosen} onChoose=${setAddressId} disabled=${frozen}
        onAdded=${(a) => {
          data.setData({ ...data.data, addresses: [...addresses, a] });
          setAddressId(a.id);
        }} />
      <${FieldError} text=${problems.address_id} />
    </section>
    <section class="card">
      <h3 class="section-title">商品</h3>
      <ul class="order-lines">
        ${lines.map(
          (l) => html`<li key=${l.sku_id} class="order-line">
            <${Img} src=${l.image} class="thumb" />
            <div class="grow"><p class="line-title">${l.title}</p><p class="muted small">${specText(l.specs)}</p>
              ${l.state === 'short' && html`<span class="badge badge-warn">仅剩 ${l.available} 件</span>`}
              ${l.state === 'out_of_stock' && html`<span class="badge badge-warn">无货</span>`}</div>
            <div class="right"><span class="price">${formatYuan(l.price)}</span><br /><span class="muted">× ${l.quantity}</span></div>
          </li>`,
        )}
      </ul>
      ${invalidQuantity && html`<p class="field-error" role="alert">购买数量需在 1 到 99 之间</p>`}
    </section>
    <section class="card">
      <label class="field">
        <span class="label">订单备注</span>
        <textarea name="remark" rows="2" maxlength="200" placeholder="选填，给商家的留言" value=${remark} readonly=${frozen}
          onInput=${(e) => setRemark(e.currentTarget.value)}></textarea>
        <${FieldError} text=${problems.remark} />
      </label>
      <dl class="totals">
        <dt>商品金额</dt><dd>${formatYuan(itemsTotal)}</dd>
        <dt>运费</dt><dd class="muted">提交后按店铺规则计算</dd>
      </dl>
    </section>
    ${error &&
    html`<div class="card"><${ErrorText} error=${error} />${frozen && html`<p class="notice">订单可能已经提交。请点「重新提交」：同一订单只会生成一次。</p>`}${shortage && html`<p class="error">${shortage}</p>`}
      ${(error.code === 'out_of_stock' || error.code === 'sku_unavailable') && !buyNow && html`<a class="btn" href="#/cart">回到购物车修改</a>`}</div>`}
    <div class="action-bar">
      <span class="total">商品合计 <strong class="price">${formatYuan(itemsTotal)}</strong></span>
      <button type="button" class="btn btn-primary" disabled=${submitting} aria-busy=${submitting} onClick=${submit}>
        ${submitting ? '提交中…' : frozen ? '重新提交' : '提交订单'}
      </button>
    </div>
  </div>`;
}
