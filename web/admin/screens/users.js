// 买家 (administrators): search buyers by username, mobile or nickname.
import { html, useState, useEffect } from '/ui/vendor/preact-htm.js';
import { formatTime } from '/ui/shared/format.js';
import { api } from '../session.js';
import { href, navigate } from '../router.js';
import { Button, Card, CursorPager, ErrorAlert, PageHeader, Table, Tag, useCursorPages } from '../ui.js';
import { useLoad } from '/ui/shared/ui.js';

export default function Users({ query }) {
  const [q, setQ] = useState(query.q || '');
  useEffect(() => setQ(query.q || ''), [query.q]);
  const pages = useCursorPages(query.q || '');
  const list = useLoad(() => api.get('/api/v1/admin/users', { query: { q: query.q, cursor: pages.cursor, limit: 20 } }), [query.q, pages.cursor]);
  return html`
    <${PageHeader} title="买家" />
    <${Card}>
      <form class="filter-bar" onSubmit=${(e) => { e.preventDefault(); navigate('/users', { q: q.trim() }); }}>
        <label class="filter filter--wide">关键字
          <input class="el-input" name="q" maxlength="64" placeholder="用户名、手机号或昵称" value=${q} onInput=${(e) => setQ(e.target.value)} />
        </label>
        <${Button} kind="primary" type="submit">搜索<//>
      </form>
    <//>
    <${Card}>
      ${list.error ? html`<${ErrorAlert} error=${list.error} />` : null}
      <${Table}
        loading=${list.loading}
        rows=${list.data ? list.data.items : []}
        empty="没有找到买家"
        columns=${[
          { title: 'ID', render: (u) => html`<a class="mono small" href=${href(`/users/${u.id}`)}>${u.id}</a>` },
          { title: '用户名', render: (u) => u.username || '—' },
          { title: '手机号', render: (u) => u.mobile || '—' },
          { title: '昵称', render: (u) => u.nickname || '—' },
          { title: '微信', render: (u) => (u.has_wechat ? html`<${Tag} kind="success">已绑定<//>` : html`<span class="muted">—</span>`) },
          { title: '注册时间', class: 'small nowrap', render: (u) => formatTime(u.created_at) },
          {
            title: '操作',
            render: (u) => html`<div class="actions">
              <a class="el-btn el-btn--text el-btn--small" href=${href(`/users/${u.id}`)}>查看</a>
              <a class="el-btn el-btn--text el-btn--small" href=${href('/orders', { user_id: u.id })}>订单</a>
            </div>`,
          },
        ]}
      />
      <${CursorPager} pages=${pages} nextCursor=${list.data && list.data.next_cursor} />
    <//>
  `;
}
