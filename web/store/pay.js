// Paying an order (#/pay/<id>): the amount, the methods the shop offers, and 去支付. A method
// with a cashier page (sandbox, Alipay) leaves for it; a QR code method shows the code and
// waits for the order to be paid. #/pay-result?order_no=… is where cashiers send the buyer
// back: it finds the order and opens its page, which shows 已支付 once the provider reported.
import { html, useEffect, useRef, useState } from '/ui/vendor/preact-htm.js';
import { ApiError, newIdempotencyKey } from '/ui/shared/api.js';
import { formatTime, formatYuan } from '/ui/shared/format.js';
import { useLoad } from '/ui/shared/ui.js';
import { safeRedirectUrl } from '/ui/shared/url.js';
import { api, ErrorText, Loading, navigate, rememberedOrderId, rememberPayment, TopBar, usePolling } from './lib.js';

const methodText = {
  sandbox: '沙箱支付（测试用，不扣款）',
  wechat_native: '微信扫码支付',
  alipay_wap: '支付宝',
  alipay_page: '支付宝网页支付',
  alipay_qr: '支付宝扫码支付',
};

export function PayPage({ params }) {
  const id = params[0];
  const data = useLoad(async () => {
    const [order, methods] = await Promise.all([api.get(`/api/v1/orders/${id}`), api.get('/api/v1/payment-methods')]);
    // wechat_jsapi pays inside the mini-program only.
    return { order, methods: methods.methods.filter((m) => m in methodText) };
  }, [id]);
  const [method, setMethod] = useState(null);
  const [payment, setPayment] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  // One key per payment action (this order, this method): a retry after an error or a lost
  // answer repeats the same payment instead of starting another.
  const keys = useRef({});

  const order = data.data && data.data.order;
  const waiting = Boolean(payment && payment.qr_code && order && order.status === 'pending_payment');
  usePolling(
    async () => {
      const fresh = await api.get(`/api/v1/orders/${id}`);
      if (fresh.status !== 'pending_payment') navigate(`/orders/${id}`, { replace: true });
    },
    { active: waiting },
  );

  useEffect(() => {
    if (order && order.status !== 'pending_payment') navigate(`/orders/${id}`, { replace: true });
  }, [order && order.status]);

  // Back from the cashier with the browser's back button, the page may come out of the
  // back-forward cache as it was left, "on its way" to pay: it is here again instead.
  useEffect(() => {
    const onShow = (e) => e.persisted && setBusy(false);
    addEventListener('pageshow', onShow);
    return () => removeEventListener('pageshow', onShow);
  }, []);

  if (data.error) return html`<div class="page"><${TopBar} title="支付订单" /><${ErrorText} error=${data.error} /></div>`;
  if (!data.data) return html`<div class="page"><${TopBar} title="支付订单" /><${Loading} /></div>`;
  const methods = data.data.methods;
  const chosen = method || methods[0];

  const pay = async () => {
    if (busy || !chosen) return;
    keys.current[chosen] = keys.current[chosen] || newIdempotencyKey();
    setBusy(true);
    setError(null);
    try {
      const started = await api.post(`/api/v1/orders/${id}/payments`, { method: chosen }, { idempotencyKey: keys.current[chosen] });
      if (started.pay_url) {
        // Only to an https cashier or one of this shop's own pages (the sandbox): an answer
        // that names anything else (javascript:, plain http elsewhere) is not followed.
        const target = safeRedirectUrl(started.pay_url);
        if (!target) throw new ApiError(0, 'invalid_response', `unsafe pay_url ${started.pay_url}`);
        rememberPayment(order);
        location.assign(target);
        return;
      }
      setPayment(started);
      setBusy(false);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return html`<div class="page pay-page">
    <${TopBar} title="支付订单" back=${`/orders/${id}`} />
    <section class="card center">
      <p class="muted">订单号 ${order.order_no}</p>
      <p class="price huge" data-testid="payable">${formatYuan(order.payable)}</p>
      <p class="muted small">商品 ${formatYuan(order.items_total)} · 运费 ${formatYuan(order.shipping_fee)}</p>
      <p class="muted small">请在 ${formatTime(order.pay_deadline)} 前完成支付，超时订单将自动取消</p>
    </section>
    ${payment && payment.qr_code
      ? html`<section class="card center">
          <img class="qr" src=${payment.qr_code} alt="支付二维码" width="256" height="256" />
          <p>请使用${payment.method === 'wechat_native' ? '微信' : '支付宝'}扫码支付</p>
          <p class="muted small" aria-live="polite">支付完成后本页会自动跳转…</p>
        </section>`
      : html`<section class="card">
          <h3 class="section-title">支付方式</h3>
          ${methods.length === 0 && html`<p class="error">本店暂未开通网页支付，请在小程序中支付</p>`}
          <div class="method-options" role="radiogroup" aria-label="支付方式">
            ${methods.map(
              (m) => html`<label key=${m} class=${`method-option ${m === chosen ? 'picked' : ''}`}>
                <input type="radio" name="method" value=${m} checked=${m === chosen} onChange=${() => setMethod(m)} />
                <span>${methodText[m]}</span>
              </label>`,
            )}
          </div>
        </section>`}
    <${ErrorText} error=${error} />
    <div class="action-bar">
      <a class="action-link" href=${`#/orders/${id}`}>查看订单</a>
      ${!(payment && payment.qr_code) &&
      html`<button type="button" class="btn btn-primary" disabled=${busy || !chosen} onClick=${pay}>
        ${busy ? '正在前往支付…' : `去支付 ${formatYuan(order.payable)}`}
      </button>`}
    </div>
  </div>`;
}

// findOrderId turns an order number into the order's id: remembered when the buyer left to
// pay, else looked up among the buyer's recent orders.
async function findOrderId(orderNo) {
  const remembered = rememberedOrderId(orderNo);
  if (remembered) return remembered;
  for (let page = 1; page <= 5; page++) {
    const res = await api.get('/api/v1/orders', { query: { page, page_size: 50 } });
    const found = res.items.find((o) => o.order_no === orderNo);
    if (found) return found.id;
    if (page * 50 >= res.total) break;
  }
  return null;
}

export function PayResultPage({ query }) {
  const orderNo = query.get('order_no') || '';
  const found = useLoad(() => (/^\d{27}$/.test(orderNo) ? findOrderId(orderNo) : Promise.resolve(null)), [orderNo]);
  useEffect(() => {
    if (found.data) navigate(`/orders/${found.data}`, { replace: true });
  }, [found.data]);
  let body;
  if (found.error) body = html`<${ErrorText} error=${found.error} />`;
  else if (found.loading || found.data) body = html`<${Loading} text="正在查询支付结果…" />`;
  else body = html`<div class="empty"><p>没有找到这个订单</p><a class="btn" href="#/orders">查看我的订单</a></div>`;
  return html`<div class="page"><${TopBar} title="支付结果" back="/orders" />${body}</div>`;
}
