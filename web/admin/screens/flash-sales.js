// 秒杀活动: flash sales by status; create one for a SKU (its quantity is taken out of the
// SKU's available stock at once) and cancel one that has not ended.
import { html, useState } from '/ui/vendor/preact-htm.js';
import { formatYuan, formatTime, parseYuan } from '/ui/shared/format.js';
import { api } from '../session.js';
import { href, navigate } from '../router.js';
import { Button, Card, CursorPager, Dialog, ErrorAlert, Field, PageHeader, Table, Tabs, confirmAction, toast, toastError, useFormAction, useCursorPages } from '../ui.js';
import { Img, useLoad } from '/ui/shared/ui.js';
import { StatusTag, flashSaleStatus } from '../data.js';

const tabs = [
  { key: '', label: '全部' },
  { key: 'active,upcoming,pending', label: '进行中 / 未开始' },
  { key: 'ended', label: '已结束' },
  { key: 'cancelled,failed', label: '已取消 / 失败' },
];

// datetime-local values are the browser's local time; the API wants an instant.
const toInstant = (local) => (local ? new Date(local).toISOString() : '');
const localInput = (d) => {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
};

function CreateDialog({ skuId, onClose, onDone }) {
  const soon = new Date(Date.now() + 10 * 60000);
  const [form, setForm] = useState({ sku_id: skuId || '', price: '', quantity: '', per_user_limit: '1', starts_at: localInput(soon), ends_at: localInput(new Date(soon.getTime() + 3600000)) });
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  const [create, busy, errors, failure] = useFormAction(async () => {
    const e = {};
    if (!/^\d+$/.test(form.sku_id.trim())) e.sku_id = '请输入 SKU ID（数字）';
    const price = parseYuan(form.price);
    if (!form.price.trim()) e.price = '请输入秒杀价';
    else if (price === null || price < 1) e.price = '金额格式不对，如 9.90';
    const qty = Number(form.quantity);
    if (!/^\d+$/.test(form.quantity.trim()) || qty < 1 || qty > 99999) e.quantity = '数量须为 1 到 99999 的整数';
    const limit = Number(form.per_user_limit);
    if (!/^\d+$/.test(form.per_user_limit.trim()) || limit < 1 || limit > 99) e.per_user_limit = '限购须为 1 到 99 的整数';
    else if (!e.quantity && limit > qty) e.per_user_limit = '限购不能超过秒杀数量';
    if (!form.starts_at) e.starts_at = '请选择开始时间';
    if (!form.ends_at) e.ends_at = '请选择结束时间';
    else if (form.starts_at && new Date(form.ends_at) <= new Date(form.starts_at)) e.ends_at = '结束时间须晚于开始时间';
    if (Object.keys(e).length) return e;
    await api.post('/api/v1/admin/flash-sales', {
      sku_id: form.sku_id.trim(),
      price,
      quantity: qty,
      per_user_limit: limit,
      starts_at: toInstant(form.starts_at),
      ends_at: toInstant(form.ends_at),
    });
    toast('success', '秒杀活动已创建');
    onDone();
  });
  return html`<${Dialog}
    open
    title="创建秒杀"
    onClose=${onClose}
    footer=${html`<${Button} onClick=${onClose}>取消<//><${Button} kind="primary" busy=${busy} onClick=${create}>创建<//>`}
  >
    ${failure ? html`<${ErrorAlert} error=${failure} shown=${Object.keys(form)} />` : null}
    <form class="el-form" novalidate onSubmit=${(e) => { e.preventDefault(); create(); }}>
      <${Field} label="SKU ID" required error=${errors.sku_id} hint="在库存管理的 SKU 页可以找到">
        <input class="el-input" name="sku_id" value=${form.sku_id} onInput=${set('sku_id')} />
      <//>
      <${Field} label="秒杀价（元）" required error=${errors.price}><input class="el-input" name="price" inputmode="decimal" value=${form.price} onInput=${set('price')} /><//>
      <${Field} label="数量" required error=${errors.quantity} hint="创建时从可售库存中预留"><input class="el-input" name="quantity" inputmode="numeric" value=${form.quantity} onInput=${set('quantity')} /><//>
      <${Field} label="每人限购" required error=${errors.per_user_limit}><input class="el-input" name="per_user_limit" inputmode="numeric" value=${form.per_user_limit} onInput=${set('per_user_limit')} /><//>
      <${Field} label="开始时间" required error=${errors.starts_at}><input class="el-input" type="datetime-local" name="starts_at" value=${form.starts_at} onInput=${set('starts_at')} /><//>
      <${Field} label="结束时间" required error=${errors.ends_at} hint="最长 31 天"><input class="el-input" type="datetime-local" name="ends_at" value=${form.ends_at} onInput=${set('ends_at')} /><//>
    </form>
  <//>`;
}

export default function FlashSales({ query }) {
  const status = query.status || '';
  const pages = useCursorPages(status);
  const list = useLoad(() => api.get('/api/v1/admin/flash-sales', { query: { status, cursor: pages.cursor, limit: 20 } }), [status, pages.cursor]);
  const [creating, setCreating] = useState(Boolean(query.sku));
  const cancel = async (s) => {
    if (!(await confirmAction({ title: '取消秒杀', message: `确定取消「${s.title}」的秒杀吗？未售出的库存会退回可售库存。`, okText: '取消活动', danger: true }))) return;
    try {
      await api.post(`/api/v1/admin/flash-sales/${s.id}/cancel`);
      toast('success', '秒杀已取消');
      list.reload();
    } catch (err) {
      toastError(err);
    }
  };
  return html`
    <${PageHeader} title="秒杀活动" extra=${html`<${Button} kind="primary" onClick=${() => setCreating(true)}>＋ 创建秒杀<//>`} />
    <${Card}>
      <${Tabs} label="活动状态" tabs=${tabs} active=${status} onChange=${(key) => navigate('/flash-sales', { status: key })} />
      ${list.error ? html`<${ErrorAlert} error=${list.error} />` : null}
      <${Table}
        loading=${list.loading}
        rows=${list.data ? list.data.items : []}
        empty="没有秒杀活动"
        columns=${[
          {
            title: '商品',
            render: (s) => html`<div class="product-cell"><${Img} class="thumb" src=${s.image} alt=${s.title} /><div class="product-cell__text">
              <a href=${href(`/products/${s.product_id}`)}>${s.title}</a><a class="mono small" href=${href(`/stock/${s.sku_id}`)}>SKU ${s.sku_id}</a></div></div>`,
          },
          { title: '秒杀价', class: 'num', render: (s) => html`<span class="price">${formatYuan(s.price)}</span><div class="strike small">${formatYuan(s.list_price)}</div>` },
          { title: '剩余 / 总量', class: 'num', render: (s) => `${s.remaining} / ${s.quantity}` },
          { title: '限购', class: 'num', key: 'per_user_limit' },
          { title: '时间', class: 'small nowrap', render: (s) => html`${formatTime(s.starts_at)}<div>至 ${formatTime(s.ends_at)}</div>` },
          { title: '状态', render: (s) => html`<${StatusTag} map=${flashSaleStatus} value=${s.status} />${s.fail_reason ? html`<div class="small muted">${s.fail_reason}</div>` : null}` },
          {
            title: '操作',
            render: (s) => (['pending', 'upcoming', 'active'].includes(s.status) ? html`<${Button} kind="text-danger" size="small" onClick=${() => cancel(s)}>取消<//>` : null),
          },
        ]}
      />
      <${CursorPager} pages=${pages} nextCursor=${list.data && list.data.next_cursor} />
    <//>
    ${creating
      ? html`<${CreateDialog}
          skuId=${query.sku}
          onClose=${() => setCreating(false)}
          onDone=${() => {
            setCreating(false);
            list.reload();
          }}
        />`
      : null}
  `;
}
