// 买家详情 (administrators): the account, its delivery addresses and its latest orders.
import { html } from '/ui/vendor/preact-htm.js';
import { addressLine, formatYuan, formatTime } from '/ui/shared/format.js';
import { api } from '../session.js';
import { href } from '../router.js';
import { Card, Descriptions, ErrorAlert, Loading, PageHeader, Table, Tag } from '../ui.js';
import { useLoad } from '/ui/shared/ui.js';
import { StatusTag, orderStatus } from '../data.js';

export default function UserDetail({ params }) {
  const id = params.id;
  const user = useLoad(() => api.get(`/api/v1/admin/users/${id}`), [id]);
  const orders = useLoad(() => api.get('/api/v1/admin/orders', { query: { user_id: id, page_size: 10 } }), [id]);
  if (user.error) return html`<${PageHeader} title="买家详情" back=${href('/users')} /><${ErrorAlert} error=${user.error} />`;
  if (!user.data) return html`<${Loading} />`;
  const u = user.data;
  return html`
    <${PageHeader} title=${u.nickname || u.username || u.mobile || '买家'} back=${href('/users')} />
    <${Card} title="账号">
      <${Descriptions}
        items=${[
          ['ID', html`<span class="mono">${u.id}</span>`],
          ['用户名', u.username],
          ['手机号', u.mobile],
          ['昵称', u.nickname],
          ['微信', u.has_wechat ? '已绑定' : '未绑定'],
          ['注册时间', formatTime(u.created_at)],
        ]}
      />
    <//>
    <${Card} title="收货地址">
      <${Table}
        rows=${u.addresses || []}
        empty="没有收货地址"
        columns=${[
          { title: '收货人', render: (a) => html`${a.recipient}${a.is_default ? html` <${Tag} kind="primary">默认<//>` : null}` },
          { title: '电话', key: 'phone' },
          { title: '地址', render: (a) => addressLine(a) },
        ]}
      />
    <//>
    <${Card} title="最近订单" extra=${html`<a href=${href('/orders', { user_id: id })}>全部订单</a>`}>
      ${orders.error ? html`<${ErrorAlert} error=${orders.error} />` : null}
      <${Table}
        loading=${orders.loading}
        rows=${orders.data ? orders.data.items : []}
        empty="还没有订单"
        columns=${[
          { title: '订单号', render: (o) => html`<a class="mono" href=${href(`/orders/${o.id}`)}>${o.order_no}</a>` },
          { title: '实付', class: 'num', render: (o) => formatYuan(o.payable) },
          { title: '状态', render: (o) => html`<${StatusTag} map=${orderStatus} value=${o.status} />` },
          { title: '下单时间', class: 'small nowrap', render: (o) => formatTime(o.created_at) },
        ]}
      />
    <//>
  `;
}
