// 审计日志 (administrators): every staff write, who made it, what was sent and answered;
// filtered by actor, method, route, target and time.
import { html, useState, useEffect } from '/ui/vendor/preact-htm.js';
import { formatTime } from '/ui/shared/format.js';
import { api } from '../session.js';
import { navigate } from '../router.js';
import { Button, Card, CursorPager, Descriptions, ErrorAlert, JSONBlock, PageHeader, Table, Tag, localDayStart, useCursorPages } from '../ui.js';
import { useLoad } from '/ui/shared/ui.js';
import { staffRole } from '../data.js';

const keys = ['actor', 'method', 'route', 'target', 'from', 'to'];
const methodKind = { POST: 'success', PUT: 'warning', PATCH: 'warning', DELETE: 'danger' };

export default function AuditLog({ query }) {
  const [filters, setFilters] = useState(() => Object.fromEntries(keys.map((k) => [k, query[k] || ''])));
  const [problem, setProblem] = useState('');
  useEffect(() => setFilters(Object.fromEntries(keys.map((k) => [k, query[k] || '']))), keys.map((k) => query[k]));
  const pages = useCursorPages(JSON.stringify(keys.map((k) => query[k] || '')));
  const list = useLoad(
    () =>
      api.get('/api/v1/admin/audit-log', {
        query: {
          actor: query.actor,
          method: query.method,
          route: query.route,
          target: query.target,
          from: query.from ? localDayStart(query.from) : '',
          to: query.to ? localDayStart(query.to, 1) : '',
          cursor: pages.cursor,
          limit: 20,
        },
      }),
    [...keys.map((k) => query[k]), pages.cursor],
  );
  const set = (k) => (e) => setFilters({ ...filters, [k]: e.target.value });
  const search = (e) => {
    e.preventDefault();
    if (filters.actor.trim() && !/^\d+$/.test(filters.actor.trim())) return setProblem('操作人须填员工 ID（数字）');
    if (filters.from && filters.to && filters.to < filters.from) return setProblem('结束日期不能早于开始日期');
    setProblem('');
    navigate('/audit-log', Object.fromEntries(keys.map((k) => [k, filters[k].trim()])));
  };
  return html`
    <${PageHeader} title="审计日志" />
    <${Card}>
      <form class="filter-bar" onSubmit=${search} novalidate>
        <label class="filter">操作人 ID<input class="el-input" name="actor" value=${filters.actor} onInput=${set('actor')} /></label>
        <label class="filter">方法
          <select class="el-select" name="method" value=${filters.method} onChange=${set('method')}>
            <option value="">全部</option>
            ${Object.keys(methodKind).map((m) => html`<option key=${m} value=${m}>${m}</option>`)}
          </select>
        </label>
        <label class="filter filter--wide">接口前缀<input class="el-input" name="route" placeholder="/api/v1/admin/products" value=${filters.route} onInput=${set('route')} /></label>
        <label class="filter">对象 ID<input class="el-input" name="target" value=${filters.target} onInput=${set('target')} /></label>
        <label class="filter filter--date">日期从<input class="el-input" type="date" name="from" value=${filters.from} onInput=${set('from')} /></label>
        <label class="filter filter--date">到<input class="el-input" type="date" name="to" value=${filters.to} onInput=${set('to')} /></label>
        <div class="row">
          <${Button} kind="primary" type="submit">查询<//>
          <${Button} onClick=${() => navigate('/audit-log', {})}>重置<//>
        </div>
      </form>
      ${problem ? html`<div class="cell-error">${problem}</div>` : null}
    <//>
    <${Card}>
      ${list.error ? html`<${ErrorAlert} error=${list.error} />` : null}
      <${Table}
        loading=${list.loading}
        rows=${list.data ? list.data.items : []}
        empty="没有记录"
        expand=${(a) => html`<div class="stack">
          <${Descriptions}
            items=${[
              ['请求路径', html`<span class="mono">${a.path}</span>`],
              ['请求编号', html`<span class="mono">${a.request || ''}</span>`],
              ['服务', a.service],
              ['来源 IP', a.client_ip],
              ['客户端', a.user_agent],
            ]}
          />
          <div class="grid-2">
            <div><div class="muted small">修改前</div><${JSONBlock} value=${a.before === undefined ? '（无）' : a.before} /></div>
            <div><div class="muted small">提交内容</div><${JSONBlock} value=${a.after === undefined ? '（无）' : a.after} /></div>
          </div>
        </div>`}
        columns=${[
          { title: '时间', class: 'small nowrap', render: (a) => formatTime(a.occurred_at) },
          {
            title: '操作人',
            render: (a) => html`${a.actor_username || html`<span class="mono small">${a.actor_id}</span>`} <span class="muted small">${staffRole[a.actor_role] ? staffRole[a.actor_role][0] : a.actor_role}</span>`,
          },
          { title: '方法', render: (a) => html`<${Tag} kind=${methodKind[a.method] || 'info'}>${a.method}<//>` },
          { title: '接口', render: (a) => html`<span class="mono small">${a.route}</span>` },
          { title: '对象', render: (a) => html`<span class="mono small">${a.target || '—'}</span>` },
          { title: '结果', render: (a) => html`<${Tag} kind=${a.status < 300 ? 'success' : a.status < 500 ? 'warning' : 'danger'}>${a.status}<//>` },
        ]}
      />
      <${CursorPager} pages=${pages} nextCursor=${list.data && list.data.next_cursor} />
    <//>
  `;
}
