// 支付与对账 (administrators): the log of the providers' notifies with what became of each,
// and the reconciliation of a day's bills against the shop's payments and refunds.
import { html, useState, useEffect } from '/ui/vendor/preact-htm.js';
import { formatYuan, formatTime } from '/ui/shared/format.js';
import { api } from '../session.js';
import { href, navigate } from '../router.js';
import { Alert, Button, Card, ErrorAlert, JSONBlock, Loading, PageHeader, Table, Tabs, Tag, localDate } from '../ui.js';
import { useLoad } from '/ui/shared/ui.js';
import { StatusTag, notifyOutcome, providerName } from '../data.js';

const problems = {
  'paid at the provider, not here': '渠道已收款，本店无记录',
  "paid here, not in the provider's bill": '本店已收款，渠道账单无记录',
  'amounts differ': '金额不一致',
  'refunded at the provider, not here': '渠道已退款，本店无记录',
  "refunded here, not in the provider's bill": '本店已退款，渠道账单无记录',
};

function Notifications({ query }) {
  const orderNo = query.out_trade_no || '';
  const outcome = query.outcome ?? (orderNo ? '' : 'applied');
  const [text, setText] = useState(orderNo);
  const [pick, setPick] = useState(outcome);
  useEffect(() => {
    setText(orderNo);
    setPick(outcome);
  }, [orderNo, outcome]);
  // The log is searched by order number, outcome or both; with neither the API refuses.
  const asked = Boolean(orderNo || outcome);
  const list = useLoad(
    () => (asked ? api.get('/api/v1/admin/payments/notifications', { query: { out_trade_no: orderNo, outcome } }) : Promise.resolve(null)),
    [orderNo, outcome],
  );
  return html`
    <form class="filter-bar" onSubmit=${(e) => { e.preventDefault(); navigate('/payments', { tab: 'notify', out_trade_no: text.trim(), outcome: pick }); }}>
      <label class="filter filter--wide">订单号
        <input class="el-input" name="out_trade_no" placeholder="27 位订单号" maxlength="64" value=${text} onInput=${(e) => setText(e.target.value)} />
      </label>
      <label class="filter">处理结果
        <select class="el-select" name="outcome" value=${pick} onChange=${(e) => setPick(e.target.value)}>
          <option value="">全部（需填订单号）</option>
          ${Object.entries(notifyOutcome).map(([k, [label]]) => html`<option key=${k} value=${k}>${label}</option>`)}
        </select>
      </label>
      <${Button} kind="primary" type="submit">查询<//>
    </form>
    ${list.error ? html`<${ErrorAlert} error=${list.error} labels=${{ out_trade_no: '订单号', outcome: '处理结果' }} />` : null}
    ${asked ? null : html`<${Alert} kind="info">请填写订单号或选择处理结果<//>`}
    <${Table}
      loading=${list.loading}
      rows=${list.data ? list.data.items : []}
      empty="没有符合条件的通知"
      expand=${(n) => html`<div class="grid-2">
        <div><div class="muted small">请求头</div><${JSONBlock} value=${n.headers} /></div>
        <div><div class="muted small">请求体</div><${JSONBlock} value=${n.body} /></div>
      </div>`}
      columns=${[
        { title: '收到时间', class: 'nowrap small', render: (n) => formatTime(n.received_at) },
        { title: '渠道', render: (n) => providerName[n.provider] || n.provider },
        { title: '类型', render: (n) => ({ trade: '支付', refund: '退款' })[n.kind] || '—' },
        {
          title: '订单号',
          render: (n) => (n.out_trade_no ? html`<a class="mono small" href=${href('/orders', { order_no: n.out_trade_no })}>${n.out_trade_no}</a>` : '—'),
        },
        { title: '验签', render: (n) => (n.verified ? html`<${Tag} kind="success">通过<//>` : html`<${Tag} kind="danger">失败<//>`) },
        { title: '结果', render: (n) => html`<${StatusTag} map=${notifyOutcome} value=${n.outcome} />` },
        { title: '原因', render: (n) => html`<span class="small">${n.reason || ''}</span>` },
      ]}
    />
  `;
}

function Reconciliation({ query }) {
  const yesterday = localDate(new Date(Date.now() - 86400000));
  const date = query.date || yesterday;
  const [pick, setPick] = useState(date);
  useEffect(() => setPick(date), [date]);
  const result = useLoad(() => api.get('/api/v1/admin/payments/reconciliation', { query: { date } }), [date]);
  const r = result.data;
  return html`
    <form class="filter-bar" onSubmit=${(e) => { e.preventDefault(); navigate('/payments', { tab: 'reconcile', date: pick }); }}>
      <label class="filter filter--date">账单日期（北京时间）
        <input class="el-input" type="date" name="date" max=${localDate()} value=${pick} onInput=${(e) => setPick(e.target.value)} />
      </label>
      <${Button} kind="primary" type="submit">对账<//>
    </form>
    ${result.error ? html`<${ErrorAlert} error=${result.error} />` : null}
    ${result.loading && !r ? html`<${Loading} text="正在拉取渠道账单…" />` : null}
    ${r
      ? html`<div class="stack">
          ${r.mismatches.length
            ? html`<${Alert} kind="warning">${r.date} 有 ${r.mismatches.length} 笔差异${r.matched !== undefined ? `，${r.matched} 笔一致` : ''}<//>`
            : html`<${Alert} kind="success">${r.date} 账单一致${r.matched !== undefined ? `，共 ${r.matched} 笔` : ''}<//>`}
          ${r.mismatches.length ? html`<${Table}
            rows=${r.mismatches}
            rowKey=${(m) => `${m.provider}-${m.kind}-${m.out_trade_no}-${m.out_refund_no || ''}-${m.problem}`}
            empty="没有差异"
            columns=${[
              { title: '渠道', render: (m) => providerName[m.provider] || m.provider },
              { title: '类型', render: (m) => ({ trade: '支付', refund: '退款' })[m.kind] || m.kind },
              { title: '订单号', render: (m) => html`<a class="mono small" href=${href('/orders', { order_no: m.out_trade_no })}>${m.out_trade_no}</a>` },
              { title: '退款单号', render: (m) => html`<span class="mono small">${m.out_refund_no || '—'}</span>` },
              { title: '问题', render: (m) => problems[m.problem] || m.problem },
              { title: '渠道金额', class: 'num', render: (m) => formatYuan(m.theirs) },
              { title: '本店金额', class: 'num', render: (m) => formatYuan(m.ours) },
            ]}
          />` : null}
        </div>`
      : null}
  `;
}

export default function Payments({ query }) {
  const tab = query.tab || 'notify';
  return html`
    <${PageHeader} title="支付与对账" />
    <${Card}>
      <${Tabs}
        label="视图"
        tabs=${[
          { key: 'notify', label: '支付通知日志' },
          { key: 'reconcile', label: '对账' },
        ]}
        active=${tab}
        onChange=${(key) => navigate('/payments', { tab: key })}
      />
      ${tab === 'notify' ? html`<${Notifications} query=${query} />` : html`<${Reconciliation} query=${query} />`}
    <//>
  `;
}
