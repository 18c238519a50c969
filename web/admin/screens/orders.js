// 订单列表: every buyer's orders, filtered by status, date range (the merchant's days, in this
// browser's zone), buyer id and order number.
import { html, useState, useEffect } from '/ui/vendor/preact-htm.js';
import { formatYuan, formatTime } from '/ui/shared/format.js';
import { api, isAdmin } from '../session.js';
import { href, navigate } from '../router.js';
import { Button, Card, ErrorAlert, PageHeader, Pagination, Table, Tabs, localDayStart } from '../ui.js';
import { useLoad } from '/ui/shared/ui.js';
import { StatusTag, orderStatus } from '../data.js';

const PAGE_SIZE = 20;
const statusTabs = [{ key: '', label: '全部' }, ...Object.entries(orderStatus).map(([key, [label]]) => ({ key, label }))];

const filterKeys = ['order_no', 'user_id', 'from', 'to'];

export default function Orders({ query, staff }) {
  const page = Number(query.page) || 1;
  const [filters, setFilters] = useState(() => Object.fromEntries(filterKeys.map((k) => [k, query[k] || ''])));
  const [errors, setErrors] = useState({});
  useEffect(() => setFilters(Object.fromEntries(filterKeys.map((k) => [k, query[k] || '']))), filterKeys.map((k) => query[k]));

  const list = useLoad(
    () =>
      api.get('/api/v1/admin/orders', {
        query: {
          status: query.status,
          order_no: query.order_no,
          user_id: query.user_id,
          from: query.from ? localDayStart(query.from) : '',
          to: query.to ? localDayStart(query.to, 1) : '',
          page,
          page_size: PAGE_SIZE,
        },
      }),
    [query.status, query.order_no, query.user_id, query.from, query.to, page],
  );

  const search = (e) => {
    e.preventDefault();
    const found = {};
    const orderNo = filters.order_no.trim();
    const userId = filters.user_id.trim();
    if (orderNo && !/^\d{27}$/.test(orderNo)) found.order_no = '订单号是 27 位数字';
    if (userId && !/^\d+$/.test(userId)) found.user_id = '买家 ID 是数字';
    if (filters.from && filters.to && filters.to < filters.from) found.to = '结束日期不能早于开始日期';
    setErrors(found);
    if (Object.keys(found).length) return;
    navigate('/orders', { status: query.status, order_no: orderNo, user_id: userId, from: filters.from, to: filters.to });
  };
  const set = (k) => (e) => setFilters({ ...filters, [k]: e.target.value });

  return html`
    <${PageHeader} title="订单列表" />
    <${Card}>
      <form class="filter-bar" onSubmit=${search} novalidate>
        <label class="filter filter--wide">订单号
          <input class=${`el-input${errors.order_no ? ' is-invalid' : ''}`} name="order_no" placeholder="27 位订单号" value=${filters.order_no} onInput=${set('order_no')} />
          ${errors.order_no ? html`<span class="cell-error">${errors.order_no}</span>` : null}
        </label>
        <label class="filter">买家 ID
          <input class=${`el-input${errors.user_id ? ' is-invalid' : ''}`} name="user_id" placeholder="买家 ID" value=${filters.user_id} onInput=${set('user_id')} />
          ${errors.user_id ? html`<span class="cell-error">${errors.user_id}</span>` : null}
        </label>
        <label class="filter filter--date">下单日期从
          <input class="el-input" type="date" name="from" value=${filters.from} onInput=${set('from')} />
        </label>
        <label class="filter filter--date">到
          <input class=${`el-input${errors.to ? ' is-invalid' : ''}`} type="date" name="to" value=${filters.to} onInput=${set('to')} />
          ${errors.to ? html`<span class="cell-error">${errors.to}</span>` : null}
        </label>
        <div class="row">
          <${Button} kind="primary" type="submit">查询<//>
          <${Button} onClick=${() => navigate('/orders', {})}>重置<//>
        </div>
      </form>
    <//>
    <${Card}>
      <${Tabs} label="订单状态" tabs=${statusTabs} active=${query.status || ''} onChange=${(key) => navigate('/orders', { ...query, status: key, page: '' })} />
      ${list.error ? html`<${ErrorAlert} error=${list.error} labels=${{ order_no: '订单号', user_id: '买家 ID', from: '开始日期', to: '结束日期', status: '状态' }} />` : null}
      <${Table}
        loading=${list.loading}
        rows=${list.data ? list.data.items : []}
        empty="没有符合条件的订单"
        columns=${[
          { title: '订单号', render: (o) => html`<a class="mono" href=${href(`/orders/${o.id}`)}>${o.order_no}</a>` },
          {
            title: '商品',
            render: (o) => html`<span>${o.lines[0].title}</span>${o.lines.length > 1 ? html`<span class="muted small"> 等 ${o.lines.length} 种</span>` : null}
              <div class="muted small">共 ${o.lines.reduce((n, l) => n + l.quantity, 0)} 件</div>`,
          },
          {
            title: '买家',
            render: (o) => (isAdmin(staff) ? html`<a class="mono small" href=${href(`/users/${o.user_id}`)}>${o.user_id}</a>` : html`<span class="mono small">${o.user_id}</span>`),
          },
          { title: '收货人', render: (o) => html`${o.address.recipient}<div class="muted small">${o.address.city}</div>` },
          { title: '实付', class: 'num nowrap', render: (o) => formatYuan(o.payable) },
          { title: '状态', render: (o) => html`<${StatusTag} map=${orderStatus} value=${o.status} />` },
          { title: '下单时间', class: 'nowrap small', render: (o) => formatTime(o.created_at) },
          { title: '操作', render: (o) => html`<a class="el-btn el-btn--text el-btn--small" href=${href(`/orders/${o.id}`)}>${o.status === 'paid' ? '发货' : '详情'}</a>` },
        ]}
      />
      ${list.data
        ? html`<${Pagination} page=${list.data.page} pageSize=${list.data.page_size} total=${list.data.total} onChange=${(p) => navigate('/orders', { ...query, page: p })} />`
        : null}
    <//>
  `;
}
