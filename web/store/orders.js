// The buyer's orders (#/orders?status=…) and one order (#/orders/<id>): lines, address,
// amounts, the steps it went through, and what the buyer can do next (去支付, 取消订单,
// 确认收货). An unpaid order's page keeps asking for its status, so a payment made in a
// cashier page or by QR code shows as 已支付 without a reload.
import { html, useEffect, useRef, useState } from '/ui/vendor/preact-htm.js';
import { addressLine, formatTime, formatYuan, specText } from '/ui/shared/format.js';
import { Img, useLoad } from '/ui/shared/ui.js';
import { withQuery } from '/ui/shared/url.js';
import { api, ConfirmButton, Empty, ErrorText, forgetPayment, Loading, navigate, orderStatusText, rememberedOrderId, showToast, TopBar, usePages, usePolling } from './lib.js';

const tabs = [
  ['', '全部'],
  ['pending_payment', '待付款'],
  ['paid', '已支付'],
  ['shipped', '已发货'],
  ['completed', '已完成'],
  ['cancelled', '已取消'],
  ['refunding', '退款中'],
  ['refunded', '已退款'],
];
const pageSize = 10;

function StatusBadge({ status }) {
  return html`<span class=${`status status-${status}`} data-testid="order-status">${orderStatusText[status] || status}</span>`;
}

function OrderCard({ order }) {
  const first = order.lines[0];
  const pieces = order.lines.reduce((n, l) => n + l.quantity, 0);
  return html`<li class="card order-card">
    <a href=${`#/orders/${order.id}`} class="order-card-link">
      <p class="row"><span class="muted small">订单号 ${order.order_no}</span><${StatusBadge} status=${order.status} /></p>
      <div class="order-line">
        <${Img} src=${first.image} class="thumb" />
        <div class="grow"><p class="line-title">${first.title}${order.lines.length > 1 ? ` 等 ${order.lines.length} 种商品` : ''}</p>
          <p class="muted small">${formatTime(order.created_at)}</p></div>
      </div>
      <p class="right">共 ${pieces} 件 实付 <strong class="price">${formatYuan(order.payable)}</strong></p>
    </a>
  </li>`;
}

export function OrdersPage({ query }) {
  const status = query.get('status') || '';
  const list = usePages((page) => api.get('/api/v1/orders', { query: { status, page, page_size: pageSize } }), status);
  return html`<div class="page orders-page">
    <${TopBar} title="我的订单" back="/me" />
    <nav class="tabs" aria-label="订单状态">
      ${tabs.map(
        ([key, label]) => html`<a key=${key || 'all'} href=${`#${withQuery('/orders', { status: key })}`} class=${key === status ? 'active' : ''}
          aria-current=${key === status ? 'page' : undefined}>${label}</a>`,
      )}
    </nav>
    ${list.items.length > 0 && html`<ul class="order-list">${list.items.map((o) => html`<${OrderCard} key=${o.id} order=${o} />`)}</ul>`}
    ${!list.loading && !list.error && list.items.length === 0 && html`<${Empty} text="还没有这类订单"><a class="btn" href="#/">去逛逛</a><//>`}
    <${ErrorText} error=${list.error} />
    ${list.loading && html`<${Loading} />`}
    ${!list.loading && (list.error || list.page * pageSize < list.total) &&
    html`<button type="button" class="btn btn-wide load-more" onClick=${list.more}>${list.error ? '重试' : '加载更多'}</button>`}
  </div>`;
}

// The steps of an order, from the times the API records for each.
function timeline(order) {
  const steps = [['下单', order.created_at]];
  if (order.paid_at) steps.push(['支付成功', order.paid_at]);
  if (order.shipped_at) steps.push([`已发货${order.carrier ? `（${order.carrier} ${order.tracking_no || ''}）` : ''}`, order.shipped_at]);
  if (order.completed_at) steps.push(['已确认收货', order.completed_at]);
  if (order.cancelled_at) steps.push(['已取消', order.cancelled_at]);
  if (order.status === 'refunding') steps.push(['退款处理中', order.updated_at]);
  if (order.status === 'refunded') steps.push(['已退款', order.updated_at]);
  return steps.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
}

export function OrderPage({ params }) {
  const id = params[0];
  const order = useLoad(() => api.get(`/api/v1/orders/${id}`), [id]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const shownStatus = useRef(null);
  const data = order.data;

  // Waiting for payment: the provider's report may come any moment.
  usePolling(
    async () => {
      const fresh = await api.get(`/api/v1/orders/${id}`);
      if (fresh.status !== data.status) order.setData(fresh);
    },
    { active: Boolean(data && data.status === 'pending_payment') },
  );
  // 支付成功 is said when the page saw the order turn paid, or when the buyer comes back from
  // the cashier to an order that is paid already.
  useEffect(() => {
    if (!data) return;
    const backFromCashier = shownStatus.current === null && rememberedOrderId(data.order_no) === data.id;
    if (data.status === 'paid' && (shownStatus.current === 'pending_payment' || backFromCashier)) showToast('支付成功');
    if (data.status !== 'pending_payment') forgetPayment(data.order_no);
    shownStatus.current = data.status;
  }, [data && data.status]);

  if (order.error) return html`<div class="page"><${TopBar} title="订单详情" back="/orders" /><${ErrorText} error=${order.error} /></div>`;
  if (!data) return html`<div class="page"><${TopBar} title="订单详情" back="/orders" /><${Loading} /></div>`;

  const act = async (path, done) => {
    setBusy(true);
    setError(null);
    try {
      order.setData(await api.post(path, {}));
      showToast(done);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const a = data.address;
  return html`<div class="page order-page">
    <${TopBar} title="订单详情" back="/orders" />
    <section class="card order-head">
      <p class="big"><${StatusBadge} status=${data.status} /></p>
      ${data.status === 'pending_payment' && html`<p class="muted small">请在 ${formatTime(data.pay_deadline)} 前支付，超时订单将自动取消</p>`}
      ${data.status === 'shipped' && data.auto_complete_at && html`<p class="muted small">${formatTime(data.auto_complete_at)} 将自动确认收货</p>`}
    </section>
    <section class="card">
      <h3 class="section-title">收货信息</h3>
      <p><strong>${a.recipient}</strong> <span class="muted">${a.phone}</span></p>
      <p>${addressLine(a)}</p>
    </section>
    <section class="card">
      <h3 class="section-title">商品</h3>
      <ul class="order-lines">
        ${data.lines.map(
          (l) => html`<li key=${l.sku_id} class="order-line">
            <a href=${`#/product/${l.product_id}`} aria-label=${l.title}><${Img} src=${l.image} class="thumb" /></a>
            <div class="grow"><p class="line-title">${l.title}</p><p class="muted small">${specText(l.specs)}</p></div>
            <div class="right"><span class="price">${formatYuan(l.unit_price)}</span><br /><span class="muted">× ${l.quantity}</span></div>
          </li>`,
        )}
      </ul>
      <dl class="totals">
        <dt>商品金额</dt><dd>${formatYuan(data.items_total)}</dd>
        <dt>运费</dt><dd>${formatYuan(data.shipping_fee)}</dd>
        <dt>实付款</dt><dd class="price">${formatYuan(data.payable)}</dd>
      </dl>
      ${data.remark && html`<p class="muted small">备注：${data.remark}</p>`}
    </section>
    <section class="card">
      <h3 class="section-title">订单记录</h3>
      <p class="muted small">订单号 ${data.order_no}</p>
      <ol class="timeline">
        ${timeline(data).map(([label, at]) => html`<li key=${label}><span>${label}</span><time class="muted small">${formatTime(at)}</time></li>`)}
      </ol>
    </section>
    <${ErrorText} error=${error} />
    ${(data.status === 'pending_payment' || data.status === 'shipped') &&
    html`<div class="action-bar">
      ${data.status === 'pending_payment' &&
      html`<${ConfirmButton} label="取消订单" question="确定取消这个订单？" confirmLabel="取消订单" busy=${busy}
          onConfirm=${() => act(`/api/v1/orders/${id}/cancel`, '订单已取消')} />
        <button type="button" class="btn btn-primary" disabled=${busy} onClick=${() => navigate(`/pay/${id}`)}>去支付</button>`}
      ${data.status === 'shipped' &&
      html`<${ConfirmButton} class="btn btn-primary" label="确认收货" question="确认已收到商品？" confirmLabel="确认收货" busy=${busy}
        onConfirm=${() => act(`/api/v1/orders/${id}/confirm-receipt`, '已确认收货')} />`}
    </div>`}
  </div>`;
}
