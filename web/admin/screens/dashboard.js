// 概览: today's and the last 7 days' orders and takings, work waiting (shipments, refunds),
// SKUs running low, and a chart of orders per day drawn as SVG here.
import { html } from '/ui/vendor/preact-htm.js';
import { formatYuan } from '/ui/shared/format.js';
import { api } from '../session.js';
import { href } from '../router.js';
import { Card, ErrorAlert, Loading, Table } from '../ui.js';
import { useLoad } from '/ui/shared/ui.js';

const LOW_STOCK_THRESHOLD = 10;

function Stat({ label, value, sub, link, tone }) {
  const body = html`<span class="stat__label">${label}</span><span class="stat__value">${value}</span><span class="stat__sub">${sub}</span>`;
  const cls = `stat${tone ? ` stat--${tone}` : ''}`;
  return link ? html`<a class=${cls} href=${link}>${body}</a>` : html`<div class=${cls}>${body}</div>`;
}

// niceCeiling rounds a maximum up to 1, 2 or 5 × 10ⁿ per grid step, for four grid lines.
function niceScale(max) {
  const rough = Math.max(1, max) / 4;
  const pow = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= rough);
  const stepInt = Math.max(1, Math.ceil(step));
  return { step: stepInt, top: stepInt * 4 };
}

// OrdersChart: bars are orders placed per day, the line is orders paid per day.
function OrdersChart({ days }) {
  const W = 640;
  const H = 260;
  const pad = { left: 40, right: 12, top: 20, bottom: 30 };
  const plotW = W - pad.left - pad.right;
  const plotH = H - pad.top - pad.bottom;
  const { step, top } = niceScale(Math.max(...days.map((d) => Math.max(d.orders, d.paid_orders))));
  const y = (v) => pad.top + plotH - (v / top) * plotH;
  const slot = plotW / days.length;
  const barW = Math.min(36, slot * 0.5);
  const cx = (i) => pad.left + slot * i + slot / 2;
  const grid = [0, 1, 2, 3, 4].map((k) => k * step);
  const line = days.map((d, i) => `${i ? 'L' : 'M'}${cx(i).toFixed(1)},${y(d.paid_orders).toFixed(1)}`).join(' ');
  return html`<div>
    <div class="chart-legend">
      <span><span class="legend-swatch legend-swatch--bar"></span>下单数</span>
      <span><span class="legend-swatch legend-swatch--line"></span>付款单数</span>
    </div>
    <svg class="chart" viewBox=${`0 0 ${W} ${H}`} role="img" aria-label="近 ${days.length} 日每日订单数">
      ${grid.map(
        (v) => html`<g key=${`g${v}`}>
          <line class="grid-line" x1=${pad.left} x2=${W - pad.right} y1=${y(v)} y2=${y(v)} />
          <text class="axis-label" x=${pad.left - 6} y=${y(v) + 4} text-anchor="end">${v}</text>
        </g>`,
      )}
      ${days.map(
        (d, i) => html`<g key=${d.date} class="chart-day">
          <rect class="bar" x=${cx(i) - barW / 2} y=${y(d.orders)} width=${barW} height=${Math.max(0, pad.top + plotH - y(d.orders))} rx="2">
            <title>${d.date}：下单 ${d.orders}，付款 ${d.paid_orders}，成交 ${formatYuan(d.paid_amount)}</title>
          </rect>
          ${d.orders ? html`<text class="bar-value" x=${cx(i)} y=${y(d.orders) - 4} text-anchor="middle">${d.orders}</text>` : null}
          <text class="axis-label" x=${cx(i)} y=${H - 10} text-anchor="middle">${d.date.slice(5)}</text>
        </g>`,
      )}
      <path class="line" d=${line} />
      ${days.map((d, i) => html`<circle key=${`c${d.date}`} class="dot" cx=${cx(i)} cy=${y(d.paid_orders)} r="3.5" />`)}
    </svg>
  </div>`;
}

export default function Dashboard() {
  const summary = useLoad(() => api.get('/api/v1/admin/orders/summary', { query: { days: 7 } }), []);
  const low = useLoad(() => api.get('/api/v1/admin/stock/low', { query: { threshold: LOW_STOCK_THRESHOLD, limit: 8 } }), []);

  let stats = null;
  if (summary.data) {
    const days = summary.data.days;
    const today = days[days.length - 1] || { orders: 0, paid_orders: 0, paid_amount: 0 };
    const week = days.reduce((t, d) => ({ orders: t.orders + d.orders, paid_orders: t.paid_orders + d.paid_orders, paid_amount: t.paid_amount + d.paid_amount }), {
      orders: 0,
      paid_orders: 0,
      paid_amount: 0,
    });
    stats = html`<div class="stat-grid" data-testid="dashboard-stats">
      <${Stat} label="今日订单" value=${today.orders} sub=${`今日付款 ${today.paid_orders} 单`} />
      <${Stat} label="今日成交额" value=${formatYuan(today.paid_amount)} sub="按付款时间统计" />
      <${Stat} label=${`近 ${days.length} 日订单`} value=${week.orders} sub=${`付款 ${week.paid_orders} 单`} />
      <${Stat} label=${`近 ${days.length} 日成交额`} value=${formatYuan(week.paid_amount)} sub=${`日均 ${formatYuan(Math.round(week.paid_amount / Math.max(1, days.length)))}`} />
      <${Stat} label="待发货" value=${summary.data.pending_shipment} sub="已付款未发货" link=${href('/orders', { status: 'paid' })} tone=${summary.data.pending_shipment ? 'warning' : ''} />
      <${Stat} label="退款中" value=${summary.data.pending_refund} sub="等待渠道确认" link=${href('/orders', { status: 'refunding' })} tone=${summary.data.pending_refund ? 'danger' : ''} />
    </div>`;
  }

  return html`
    ${summary.error ? html`<${ErrorAlert} error=${summary.error} />` : stats || html`<${Loading} />`}
    <div class="dash-grid">
      <${Card} title="近 7 日订单趋势" extra=${summary.data ? html`<span class="muted small">时区 UTC${summary.data.timezone}</span>` : null}>
        ${summary.data ? html`<${OrdersChart} days=${summary.data.days} />` : summary.error ? html`<${ErrorAlert} error=${summary.error} />` : html`<${Loading} />`}
      <//>
      <${Card} title=${`库存预警（可售 ≤ ${LOW_STOCK_THRESHOLD}）`} extra=${html`<a href=${href('/stock')}>查看全部</a>`}>
        ${low.error
          ? html`<${ErrorAlert} error=${low.error} />`
          : html`<${Table}
              loading=${low.loading}
              rowKey=${(r) => r.sku_id}
              rows=${low.data ? low.data.items : []}
              empty="库存充足"
              columns=${[
                { title: '商品', render: (r) => html`<a href=${href(`/stock/${r.sku_id}`)}>${r.title}</a><div class="muted small">${r.spec}</div>` },
                { title: '可售', class: 'num', render: (r) => html`<span class=${r.available === 0 ? 'price' : ''}>${r.available}</span>` },
                { title: '预占', class: 'num', key: 'reserved' },
              ]}
            />`}
      <//>
    </div>
  `;
}
