// One SKU's stock: its levels, the set and adjust forms, and the ledger of every change.
import { html, useRef } from '/ui/vendor/preact-htm.js';
import { formatTime, specText } from '/ui/shared/format.js';
import { api } from '../session.js';
import { href } from '../router.js';
import { Card, CursorPager, Descriptions, ErrorAlert, Loading, PageHeader, Table, useCursorPages } from '../ui.js';
import { useLoad } from '/ui/shared/ui.js';
import { SetStockForm, AdjustStockForm } from '../stock-forms.js';

function change(before, after) {
  const d = after - before;
  if (!d) return html`<span class="muted">${after}</span>`;
  return html`${after} <span class=${d > 0 ? 'small stock-up' : 'small stock-down'}>(${d > 0 ? '+' : ''}${d})</span>`;
}

export default function StockSku({ params }) {
  const skuId = params.skuId;
  const pages = useCursorPages();
  const report = useLoad(() => api.get(`/api/v1/admin/skus/${skuId}/stock`, { query: { cursor: pages.cursor, limit: 20 } }), [skuId, pages.cursor]);
  // Paging the ledger loads the report afresh; the page keeps showing the last one meanwhile,
  // so the levels and forms stay in place.
  const lastReport = useRef(null);
  if (report.data) lastReport.current = report.data;
  const shown = report.data || lastReport.current;
  const productId = shown ? shown.level.product_id : '';
  const product = useLoad(() => (productId ? api.get(`/api/v1/admin/products/${productId}`) : Promise.resolve(null)), [productId]);

  if (report.error) return html`<${PageHeader} title="SKU 库存" back=${href('/stock')} /><${ErrorAlert} error=${report.error} />`;
  if (!shown) return html`<${Loading} />`;
  const { level, ledger, next_cursor: nextCursor } = shown;
  const p = product.data;
  const sku = p && p.skus.find((s) => s.id === skuId);
  const refreshed = () => {
    pages.reset();
    report.reload();
  };

  return html`
    <${PageHeader}
      title="SKU 库存"
      back=${p ? href('/stock', { product: p.id }) : href('/stock')}
      extra=${html`<a class="el-btn" href=${href('/flash-sales', { sku: skuId })}>创建秒杀</a>`}
    />
    <${Card} title=${p ? html`<a href=${href(`/products/${p.id}`)}>${p.title}</a>` : '商品'}>
      ${product.error ? html`<${ErrorAlert} error=${product.error} />` : null}
      <${Descriptions}
        items=${[
          ['规格', sku ? specText(sku.specs) || '默认规格' : '—'],
          ['SKU ID', html`<span class="mono">${skuId}</span>`],
          ['编码', sku && sku.code],
          ['可售', html`<strong data-testid="stock-available">${level.available}</strong>`],
          ['预占', level.reserved],
          ['已售', level.sold],
          ['更新时间', formatTime(level.updated_at)],
        ]}
      />
    <//>
    <div class="grid-2">
      <${Card} title="设置可售库存"><${SetStockForm} key=${`set-${level.available}`} skuId=${skuId} level=${level} onDone=${refreshed} /><//>
      <${Card} title="增减库存"><${AdjustStockForm} skuId=${skuId} level=${level} onDone=${refreshed} /><//>
    </div>
    <${Card} title="库存流水">
      <${Table}
        loading=${report.loading}
        rows=${ledger}
        empty="还没有库存变动"
        columns=${[
          { title: '#', class: 'num', key: 'seq' },
          { title: '时间', class: 'nowrap small', render: (e) => formatTime(e.created_at) },
          { title: '原因', key: 'reason' },
          { title: '来源', render: (e) => html`<span class="small">${e.source}</span>` },
          { title: '操作人', render: (e) => html`<span class="small mono">${e.actor}</span>` },
          { title: '可售', class: 'num nowrap', render: (e) => change(e.available_before, e.available_after) },
          { title: '预占', class: 'num nowrap', render: (e) => change(e.reserved_before, e.reserved_after) },
          { title: '已售', class: 'num nowrap', render: (e) => change(e.sold_before, e.sold_after) },
        ]}
      />
      <${CursorPager} pages=${pages} nextCursor=${nextCursor} />
    <//>
  `;
}
