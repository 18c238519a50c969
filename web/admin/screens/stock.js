// 库存管理: SKUs running low, and a product's SKUs with their available, reserved and sold
// counts; each SKU opens its set / adjust forms and ledger.
import { html, useState, useEffect } from '/ui/vendor/preact-htm.js';
import { formatYuan, specText } from '/ui/shared/format.js';
import { api } from '../session.js';
import { href, navigate } from '../router.js';
import { Button, Card, Dialog, ErrorAlert, Loading, PageHeader, Table, Tabs } from '../ui.js';
import { Img, useLoad } from '/ui/shared/ui.js';
import { SetStockForm, AdjustStockForm } from '../stock-forms.js';
import { StatusTag, productStatus } from '../data.js';

function LowStock({ query }) {
  const threshold = query.threshold ?? '10';
  const [text, setText] = useState(threshold);
  useEffect(() => setText(threshold), [threshold]);
  const low = useLoad(() => api.get('/api/v1/admin/stock/low', { query: { threshold, limit: 200 } }), [threshold]);
  const apply = (e) => {
    e.preventDefault();
    navigate('/stock', { tab: 'low', threshold: text.trim() });
  };
  return html`
    <form class="filter-bar" onSubmit=${apply}>
      <label class="filter">可售不超过
        <input class="el-input el-input--narrow" name="threshold" inputmode="numeric" value=${text} onInput=${(e) => setText(e.target.value)} />
      </label>
      <${Button} kind="primary" type="submit">查询<//>
    </form>
    ${low.error ? html`<${ErrorAlert} error=${low.error} />` : null}
    <${Table}
      loading=${low.loading}
      rowKey=${(r) => r.sku_id}
      rows=${low.data ? low.data.items : []}
      empty="没有低于阈值的 SKU"
      columns=${[
        { title: '商品', render: (r) => html`<a href=${href(`/products/${r.product_id}`)}>${r.title}</a>` },
        { title: '规格', key: 'spec' },
        { title: '可售', class: 'num', render: (r) => html`<span class=${r.available === 0 ? 'price' : ''}>${r.available}</span>` },
        { title: '预占', class: 'num', key: 'reserved' },
        { title: '已售', class: 'num', key: 'sold' },
        { title: '操作', render: (r) => html`<a class="el-btn el-btn--text el-btn--small" href=${href(`/stock/${r.sku_id}`)}>调整 / 流水</a>` },
      ]}
    />
  `;
}

// ProductStock lists one product's SKUs with their full stock levels.
function ProductStock({ productId }) {
  const [adjusting, setAdjusting] = useState(null);
  const data = useLoad(async () => {
    const product = await api.get(`/api/v1/admin/products/${productId}`);
    const levels = await Promise.all(product.skus.map((s) => api.get(`/api/v1/admin/skus/${s.id}/stock`, { query: { limit: 1 } }).then((r) => r.level)));
    return { product, levels: new Map(levels.map((l) => [l.sku_id, l])) };
  }, [productId]);
  if (data.error) return html`<${ErrorAlert} error=${data.error} />`;
  if (!data.data) return html`<${Loading} />`;
  const { product, levels } = data.data;
  return html`
    <div class="product-cell">
      <${Img} class="thumb" src=${product.images[0]} alt=${product.title} />
      <div class="product-cell__text">
        <a class="product-cell__title" href=${href(`/products/${product.id}`)}>${product.title}</a>
        <span class="row"><${StatusTag} map=${productStatus} value=${product.status} /><span class="muted small">总可售 ${product.stock}</span></span>
      </div>
    </div>
    <${Table}
      rows=${product.skus}
      empty="此商品还没有 SKU"
      columns=${[
        { title: '规格', render: (s) => specText(s.specs) || '默认规格' },
        { title: '编码', render: (s) => s.code || '—' },
        { title: '售价', class: 'num', render: (s) => formatYuan(s.price) },
        { title: '可售', class: 'num', render: (s) => levels.get(s.id)?.available ?? 0 },
        { title: '预占', class: 'num', render: (s) => levels.get(s.id)?.reserved ?? 0 },
        { title: '已售', class: 'num', render: (s) => levels.get(s.id)?.sold ?? 0 },
        {
          title: '操作',
          render: (s) => html`<div class="actions">
            <${Button} kind="text" size="small" onClick=${() => setAdjusting({ sku: s, mode: 'set' })}>设置<//>
            <${Button} kind="text" size="small" onClick=${() => setAdjusting({ sku: s, mode: 'adjust' })}>增减<//>
            <a class="el-btn el-btn--text el-btn--small" href=${href(`/stock/${s.id}`)}>流水</a>
          </div>`,
        },
      ]}
    />
    ${adjusting
      ? html`<${Dialog} open title=${`${adjusting.mode === 'set' ? '设置' : '增减'}库存：${specText(adjusting.sku.specs) || '默认规格'}`} onClose=${() => setAdjusting(null)}>
          ${adjusting.mode === 'set'
            ? html`<${SetStockForm} skuId=${adjusting.sku.id} level=${levels.get(adjusting.sku.id)} onDone=${() => { setAdjusting(null); data.reload(); }} />`
            : html`<${AdjustStockForm} skuId=${adjusting.sku.id} level=${levels.get(adjusting.sku.id)} onDone=${() => { setAdjusting(null); data.reload(); }} />`}
        <//>`
      : null}
  `;
}

function ProductPicker({ query }) {
  const [q, setQ] = useState(query.q || '');
  const found = useLoad(() => (query.q ? api.get('/api/v1/admin/products', { query: { q: query.q, page_size: 10 } }) : Promise.resolve(null)), [query.q]);
  return html`
    <form class="filter-bar" onSubmit=${(e) => { e.preventDefault(); navigate('/stock', { tab: 'product', q: q.trim() }); }}>
      <label class="filter filter--wide">商品名称
        <input class="el-input" name="q" placeholder="输入商品标题关键字" value=${q} onInput=${(e) => setQ(e.target.value)} />
      </label>
      <${Button} kind="primary" type="submit">查找商品<//>
    </form>
    ${found.error ? html`<${ErrorAlert} error=${found.error} />` : null}
    ${found.data
      ? html`<${Table}
          rows=${found.data.items}
          empty="没有找到商品"
          columns=${[
            { title: '商品', render: (p) => p.title },
            { title: '状态', render: (p) => html`<${StatusTag} map=${productStatus} value=${p.status} />` },
            { title: '操作', render: (p) => html`<a class="el-btn el-btn--text el-btn--small" href=${href('/stock', { tab: 'product', product: p.id })}>查看库存</a>` },
          ]}
        />`
      : null}
  `;
}

export default function Stock({ query }) {
  const tab = query.product ? 'product' : query.tab || 'low';
  return html`
    <${PageHeader} title="库存管理" />
    <${Card}>
      <${Tabs}
        label="视图"
        tabs=${[
          { key: 'low', label: '库存预警' },
          { key: 'product', label: '按商品查看' },
        ]}
        active=${tab}
        onChange=${(key) => navigate('/stock', { tab: key })}
      />
      ${tab === 'low' ? html`<${LowStock} query=${query} />` : query.product ? html`<div class="stack"><a href=${href('/stock', { tab: 'product' })}>‹ 换一个商品</a><${ProductStock} productId=${query.product} /></div>` : html`<${ProductPicker} query=${query} />`}
    <//>
  `;
}
