// 订单详情: lines, address, payments, refunds, status history and the staff note; ship a paid
// order, refund all or part of it (administrators), edit the note.
import { html, useState, useRef } from '/ui/vendor/preact-htm.js';
import { addressLine, formatYuan, formatTime, parseYuan, yuanInput, specText } from '/ui/shared/format.js';
import { ApiError, errorMessage, newIdempotencyKey } from '/ui/shared/api.js';
import { api, isAdmin } from '../session.js';
import { href } from '../router.js';
import { Button, Card, Descriptions, Dialog, ErrorAlert, Field, Loading, PageHeader, Table, Tag, toast, useAction, useFormAction, serverFieldErrors } from '../ui.js';
import { Img, useLoad } from '/ui/shared/ui.js';
import { StatusTag, methodName, orderStatus, paymentStatus, providerName, refundStatus } from '../data.js';

const carriers = ['顺丰速运', '京东物流', '中通快递', '圆通速递', '韵达快递', '申通快递', '极兔速递', 'EMS', '邮政快递包裹', '德邦快递'];
const refundReasons = ['买家申请退款', '缺货无法发货', '商品质量问题', '协商部分退款', '运费补偿'];
const refundableStatuses = new Set(['paid', 'shipped', 'completed', 'refunding']);

const bytes = (s) => new TextEncoder().encode(s).length;

function ShipDialog({ order, onClose, onDone }) {
  const [carrier, setCarrier] = useState('');
  const [trackingNo, setTrackingNo] = useState('');
  const [ship, busy, errors, failure] = useFormAction(async () => {
    const e = {};
    if (!carrier.trim()) e.carrier = '请选择或输入快递公司';
    else if ([...carrier.trim()].length > 32) e.carrier = '快递公司最多 32 个字';
    if (!trackingNo.trim()) e.tracking_no = '请输入运单号';
    else if (bytes(trackingNo.trim()) > 64) e.tracking_no = '运单号最多 64 个字符';
    if (Object.keys(e).length) return e;
    await api.post(`/api/v1/admin/orders/${order.id}/ship`, { carrier: carrier.trim(), tracking_no: trackingNo.trim() });
    toast('success', '已发货');
    onDone();
  });
  return html`<${Dialog}
    open
    title="订单发货"
    onClose=${onClose}
    footer=${html`<${Button} onClick=${onClose}>取消<//><${Button} kind="primary" busy=${busy} onClick=${ship}>确认发货<//>`}
  >
    ${failure ? html`<${ErrorAlert} error=${failure} shown=${['carrier', 'tracking_no']} />` : null}
    <form class="el-form" novalidate onSubmit=${(e) => { e.preventDefault(); ship(); }}>
      <${Field} label="收货人">${order.address.recipient} ${order.address.phone}<//>
      <${Field} label="快递公司" required error=${errors.carrier}>
        <input class="el-input" name="carrier" list="carrier-list" maxlength="32" value=${carrier} onInput=${(e) => setCarrier(e.target.value)} placeholder="选择或输入" />
        <datalist id="carrier-list">${carriers.map((c) => html`<option key=${c} value=${c} />`)}</datalist>
      <//>
      <${Field} label="运单号" required error=${errors.tracking_no}>
        <input class="el-input" name="tracking_no" maxlength="64" value=${trackingNo} onInput=${(e) => setTrackingNo(e.target.value)} />
      <//>
    </form>
  <//>`;
}

// A refund's Idempotency-Key stands for the request as filled in until a definite answer
// comes: a retry (or a double click, or the dialog closed and opened again after a lost
// answer) of the same amount and reason sends the same key, so the shop refunds once; changing
// the amount or reason makes it another request with a new key. The key is forgotten once the
// server answered for sure (success or a refusal), so a later refund of the same amount is a
// new one.
const answeredForSure = (err) => err instanceof ApiError && err.status >= 400 && err.status < 500;

function RefundDialog({ order, refundable, refundKey, onClose, onDone }) {
  const [mode, setMode] = useState('full');
  const [amountText, setAmountText] = useState('');
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState({});
  const [failure, setFailure] = useState(null);
  const [refund, busy] = useAction(async () => {
    const e = {};
    const amount = mode === 'full' ? refundable : parseYuan(amountText);
    if (mode === 'partial') {
      if (!amountText.trim()) e.amount = '请输入退款金额';
      else if (amount === null || amount < 1) e.amount = '金额格式不对，如 10.50';
      else if (amount > refundable) e.amount = `最多可退 ${formatYuan(refundable)}`;
    }
    const why = reason.trim();
    if (!why) e.reason = '请填写退款原因';
    else if ([...why].length > 80) e.reason = '原因最多 80 个字';
    setErrors(e);
    setFailure(null);
    if (Object.keys(e).length) return;
    const body = { amount, reason: why };
    const sig = JSON.stringify(body);
    if (refundKey.current.sig !== sig) refundKey.current = { sig, key: newIdempotencyKey() };
    try {
      const r = await api.post(`/api/v1/admin/orders/${order.id}/refunds`, body, { idempotencyKey: refundKey.current.key });
      refundKey.current = { sig: '', key: '' };
      toast('success', `已提交退款 ${formatYuan(r.amount)}${r.status === 'succeeded' ? '，已退回' : '，等待渠道处理'}`);
      onDone();
    } catch (err) {
      if (answeredForSure(err)) refundKey.current = { sig: '', key: '' };
      setErrors(serverFieldErrors(err));
      setFailure(err);
    }
  });
  const failureText =
    failure && failure.code === 'refund_exceeds_paid' && failure.details.refundable !== undefined
      ? `${errorMessage(failure)}：剩余可退 ${formatYuan(failure.details.refundable)}，请刷新后重试`
      : null;
  return html`<${Dialog}
    open
    title="订单退款"
    onClose=${onClose}
    footer=${html`<${Button} onClick=${onClose}>取消<//><${Button} kind="danger" busy=${busy} onClick=${refund}>确认退款<//>`}
  >
    ${failureText ? html`<div class="el-alert el-alert--error" role="alert">${failureText}</div>` : failure ? html`<${ErrorAlert} error=${failure} shown=${['amount', 'reason']} />` : null}
    <form class="el-form" novalidate onSubmit=${(e) => { e.preventDefault(); refund(); }}>
      <${Field} label="可退金额"><strong class="price">${formatYuan(refundable)}</strong><span class="muted small">（实付 ${formatYuan(order.payable)}）</span><//>
      <${Field} label="退款方式">
        <div class="radio-group">
          <label><input type="radio" name="refund-mode" value="full" checked=${mode === 'full'} onChange=${() => setMode('full')} />全额退款</label>
          <label><input type="radio" name="refund-mode" value="partial" checked=${mode === 'partial'} onChange=${() => { setMode('partial'); setAmountText(amountText || yuanInput(refundable)); }} />部分退款</label>
        </div>
      <//>
      ${mode === 'partial'
        ? html`<${Field} label="退款金额" required error=${errors.amount}>
            <div class="input-suffix"><input class="el-input" name="amount" inputmode="decimal" value=${amountText} onInput=${(e) => setAmountText(e.target.value)} /><span>元</span></div>
          <//>`
        : null}
      <${Field} label="退款原因" required error=${errors.reason}>
        <input class="el-input" name="reason" list="refund-reasons" maxlength="80" value=${reason} onInput=${(e) => setReason(e.target.value)} placeholder="部分渠道会展示给买家" />
        <datalist id="refund-reasons">${refundReasons.map((r) => html`<option key=${r} value=${r} />`)}</datalist>
      <//>
    </form>
  <//>`;
}

function NoteDialog({ order, onClose, onDone }) {
  const [note, setNote] = useState(order.staff_note || '');
  const [failure, setFailure] = useState(null);
  const [error, setError] = useState('');
  const [save, busy] = useAction(async () => {
    if ([...note.trim()].length > 500) {
      setError('备注最多 500 个字');
      return;
    }
    setError('');
    setFailure(null);
    try {
      await api.post(`/api/v1/admin/orders/${order.id}/note`, { note: note.trim() });
      toast('success', note.trim() ? '备注已保存' : '备注已清除');
      onDone();
    } catch (err) {
      setFailure(err);
    }
  });
  return html`<${Dialog}
    open
    title="员工备注"
    onClose=${onClose}
    footer=${html`<${Button} onClick=${onClose}>取消<//><${Button} kind="primary" busy=${busy} onClick=${save}>保存<//>`}
  >
    ${failure ? html`<${ErrorAlert} error=${failure} />` : null}
    <${Field} label="备注" error=${error} hint="仅员工可见；清空后保存即删除备注">
      <textarea class="el-textarea" name="note" rows="4" maxlength="500" value=${note} onInput=${(e) => setNote(e.target.value)}></textarea>
    <//>
  <//>`;
}

function Steps({ order }) {
  const at = (status) => {
    const t = order.history.find((h) => h.to === status);
    return t ? t.created_at : '';
  };
  let steps = [
    ['提交订单', order.created_at],
    ['付款', order.paid_at],
    ['发货', order.shipped_at],
    ['完成', order.completed_at],
  ];
  let stopped = null;
  if (order.status === 'cancelled') {
    steps = [steps[0], ['已取消', order.cancelled_at]];
    stopped = 1;
  } else if (order.status === 'refunding' || order.status === 'refunded') {
    steps = [...steps.filter(([, t]) => t), ['退款中', at('refunding')], ['已退款', at('refunded')]];
  }
  return html`<div class="steps">
    ${steps.map(
      ([title, time], i) => html`<div key=${title} class=${`step${i === stopped ? ' is-stopped' : time ? ' is-done' : ''}`}>
        <div class="step__dot">${i === stopped ? '×' : time ? '✓' : i + 1}</div>
        <div class="step__title">${title}</div>
        <div class="step__time">${formatTime(time)}</div>
      </div>`,
    )}
  </div>`;
}

export default function OrderDetail({ params, staff }) {
  const id = params.id;
  const order = useLoad(() => api.get(`/api/v1/admin/orders/${id}`), [id]);
  const money = useLoad(() => api.get(`/api/v1/admin/orders/${id}/payments`), [id]);
  const [dialog, setDialog] = useState('');
  const refundKey = useRef({ sig: '', key: '' });
  const reload = () => {
    setDialog('');
    order.reload();
    money.reload();
  };

  if (order.error) return html`<${PageHeader} title="订单详情" back=${href('/orders')} /><${ErrorAlert} error=${order.error} />`;
  if (!order.data) return html`<${Loading} />`;
  const o = order.data;
  const payments = money.data ? money.data.payments : [];
  const refunds = money.data ? money.data.refunds : [];
  const paid = payments.find((p) => p.status === 'succeeded');
  const refundable = paid ? paid.amount - refunds.filter((r) => r.payment_id === paid.id && r.status !== 'failed').reduce((n, r) => n + r.amount, 0) : 0;
  const canRefund = isAdmin(staff) && refundableStatuses.has(o.status) && refundable > 0;

  return html`
    <${PageHeader}
      title=${html`订单 <span class="mono">${o.order_no}</span>`}
      back=${href('/orders')}
      extra=${html`
        <${StatusTag} map=${orderStatus} value=${o.status} />
        ${o.status === 'paid' ? html`<${Button} kind="primary" onClick=${() => setDialog('ship')}>发货<//>` : null}
        ${canRefund ? html`<${Button} kind="danger" onClick=${() => setDialog('refund')}>退款<//>` : null}
        <${Button} onClick=${() => setDialog('note')}>备注<//>`}
    />
    <${Card}><${Steps} order=${o} /><//>
    ${o.staff_note ? html`<div class="note-box" data-testid="staff-note"><strong>员工备注：</strong>${o.staff_note}</div>` : null}
    <${Card} title="订单信息">
      <${Descriptions}
        items=${[
          ['订单号', html`<span class="mono">${o.order_no}</span>`],
          ['订单 ID', html`<span class="mono">${o.id}</span>`],
          ['买家', isAdmin(staff) ? html`<a class="mono" href=${href(`/users/${o.user_id}`)}>${o.user_id}</a>` : html`<span class="mono">${o.user_id}</span>`],
          ['下单时间', formatTime(o.created_at)],
          ['支付截止', o.status === 'pending_payment' ? formatTime(o.pay_deadline) : ''],
          ['付款时间', formatTime(o.paid_at)],
          ['快递公司', o.carrier],
          ['运单号', o.tracking_no ? html`<span class="mono">${o.tracking_no}</span>` : ''],
          ['发货时间', formatTime(o.shipped_at)],
          ['自动完成', formatTime(o.auto_complete_at)],
          ['完成时间', formatTime(o.completed_at)],
          ['取消时间', formatTime(o.cancelled_at)],
          ['买家留言', o.remark],
        ]}
      />
    <//>
    <${Card} title="收货地址">
      <${Descriptions}
        columns=${2}
        items=${[
          ['收货人', o.address.recipient],
          ['电话', o.address.phone],
          ['地址', addressLine(o.address)],
        ]}
      />
    <//>
    <${Card} title="商品清单">
      <${Table}
        rows=${o.lines}
        rowKey=${(l) => l.sku_id}
        columns=${[
          {
            title: '商品',
            render: (l) => html`<div class="product-cell">
              <${Img} class="thumb" src=${l.image} alt=${l.title} />
              <div class="product-cell__text"><a href=${href(`/products/${l.product_id}`)}>${l.title}</a><span class="muted small">${specText(l.specs) || '默认规格'}</span></div>
            </div>`,
          },
          { title: '单价', class: 'num', render: (l) => formatYuan(l.unit_price) },
          { title: '数量', class: 'num', key: 'quantity' },
          { title: '小计', class: 'num', render: (l) => formatYuan(l.line_total) },
        ]}
      />
      <div class="totals">
        <span>商品合计 ${formatYuan(o.items_total)}</span>
        <span>运费 ${formatYuan(o.shipping_fee)}</span>
        <span>实付 <strong>${formatYuan(o.payable)}</strong></span>
      </div>
    <//>
    <${Card} title="支付记录">
      ${money.error ? html`<${ErrorAlert} error=${money.error} />` : null}
      <${Table}
        loading=${money.loading}
        rows=${payments}
        empty="还没有支付"
        columns=${[
          { title: '渠道', render: (p) => `${providerName[p.provider] || p.provider} · ${methodName[p.method] || p.method}` },
          { title: '金额', class: 'num', render: (p) => formatYuan(p.amount) },
          { title: '已退', class: 'num', render: (p) => formatYuan(p.refunded) },
          { title: '状态', render: (p) => html`<${StatusTag} map=${paymentStatus} value=${p.status} />` },
          { title: '渠道流水号', render: (p) => html`<span class="mono">${p.transaction_id || '—'}</span>` },
          { title: '付款时间', class: 'small nowrap', render: (p) => formatTime(p.paid_at) || '—' },
        ]}
      />
    <//>
    <${Card} title="退款记录">
      <${Table}
        loading=${money.loading}
        rows=${refunds}
        empty="没有退款"
        columns=${[
          { title: '退款单号', render: (r) => html`<span class="mono small">${r.out_refund_no}</span>` },
          { title: '金额', class: 'num', render: (r) => formatYuan(r.amount) },
          { title: '原因', key: 'reason' },
          { title: '状态', render: (r) => html`<${StatusTag} map=${refundStatus} value=${r.status} />` },
          { title: '发起', render: (r) => (r.automatic ? html`<${Tag} kind="warning">系统自动<//>` : html`<span class="mono small">${r.requested_by}</span>`) },
          { title: '申请时间', class: 'small nowrap', render: (r) => formatTime(r.created_at) },
          { title: '完成时间', class: 'small nowrap', render: (r) => formatTime(r.completed_at) || '—' },
        ]}
      />
    <//>
    <${Card} title="状态记录">
      <ol class="timeline">
        ${[...o.history].reverse().map(
          (h, i) => html`<li key=${i}>
            <div>${h.from ? html`${orderStatus[h.from] ? orderStatus[h.from][0] : h.from} → ` : ''}<strong>${orderStatus[h.to] ? orderStatus[h.to][0] : h.to}</strong>
              <span class="muted small">　${h.reason}</span></div>
            <div class="timeline__time">${formatTime(h.created_at)} · <span class="mono">${h.actor}</span></div>
          </li>`,
        )}
      </ol>
    <//>
    ${dialog === 'ship' ? html`<${ShipDialog} order=${o} onClose=${() => setDialog('')} onDone=${reload} />` : null}
    ${dialog === 'refund' ? html`<${RefundDialog} order=${o} refundable=${refundable} refundKey=${refundKey} onClose=${() => setDialog('')} onDone=${reload} />` : null}
    ${dialog === 'note' ? html`<${NoteDialog} order=${o} onClose=${() => setDialog('')} onDone=${reload} />` : null}
  `;
}
