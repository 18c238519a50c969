// 商品列表: search by title, filter by category and shelf status, put on or take off shelf,
// delete, and open a product for editing or its stock.
import { html, useState, useEffect } from '/ui/vendor/preact-htm.js';
import { formatYuan, formatTime } from '/ui/shared/format.js';
import { api } from '../session.js';
import { href, navigate } from '../router.js';
import { Button, Card, ErrorAlert, Pagination, PageHeader, Table, confirmAction, toast, toastError } from '../ui.js';
import { Img, useLoad } from '/ui/shared/ui.js';
import { CategorySelect, StatusTag, loadCategories, productStatus } from '../data.js';

const PAGE_SIZE = 20;

function priceRange(p) {
  if (!p.price_max) return '—';
  return p.price_min === p.price_max ? formatYuan(p.price_min) : `${formatYuan(p.price_min)} ~ ${formatYuan(p.price_max)}`;
}

function ShelfButton({ product, onDone }) {
  const [busy, setBusy] = useState(false);
  const on = product.status === 'on_shelf';
  const toggle = async () => {
    setBusy(true);
    try {
      await api.post(`/api/v1/admin/products/${product.id}/${on ? 'off-shelf' : 'on-shelf'}`);
      toast('success', on ? `已下架「${product.title}」` : `已上架「${product.title}」`);
      onDone();
    } catch (err) {
      toastError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<${Button} kind="text" size="small" busy=${busy} onClick=${toggle}>${on ? '下架' : '上架'}<//>`;
}

export default function Products({ query }) {
  const page = Number(query.page) || 1;
  const [q, setQ] = useState(query.q || '');
  const [status, setStatus] = useState(query.status || '');
  const [category, setCategory] = useState(query.category_id || '');
  useEffect(() => {
    setQ(query.q || '');
    setStatus(query.status || '');
    setCategory(query.category_id || '');
  }, [query.q, query.status, query.category_id]);

  const categories = useLoad(loadCategories, []);
  const list = useLoad(
    () =>
      api.get('/api/v1/admin/products', {
        query: { q: query.q, status: query.status, category_id: query.category_id, page, page_size: PAGE_SIZE },
      }),
    [query.q, query.status, query.category_id, page],
  );

  const search = (e) => {
    e.preventDefault();
    navigate('/products', { q: q.trim(), status, category_id: category });
  };
  const remove = async (p) => {
    const ok = await confirmAction({ title: '删除商品', message: `确定删除「${p.title}」吗？商品和它的全部规格将从商品库移除，已有订单不受影响。`, okText: '删除', danger: true });
    if (!ok) return;
    try {
      await api.del(`/api/v1/admin/products/${p.id}`);
      toast('success', '商品已删除');
      list.reload();
    } catch (err) {
      toastError(err);
    }
  };

  const categoryPath = (id) => (categories.data && categories.data.byId.get(id) ? categories.data.byId.get(id).path : '');

  return html`
    <${PageHeader} title="商品列表" extra=${html`<a class="el-btn el-btn--primary" href=${href('/products/new')}>＋ 新增商品</a>`} />
    <${Card}>
      <form class="filter-bar" onSubmit=${search}>
        <label class="filter filter--wide">商品名称
          <input class="el-input" name="q" placeholder="输入商品标题关键字" value=${q} onInput=${(e) => setQ(e.target.value)} maxlength="64" />
        </label>
        <label class="filter">商品分类
          ${categories.data ? html`<${CategorySelect} categories=${categories.data} value=${category} onChange=${setCategory} />` : html`<select class="el-select" disabled><option>加载中…</option></select>`}
        </label>
        <label class="filter">状态
          <select class="el-select" name="status" value=${status} onChange=${(e) => setStatus(e.target.value)}>
            <option value="">全部</option>
            <option value="on_shelf">在售</option>
            <option value="off_shelf">已下架</option>
          </select>
        </label>
        <div class="row">
          <${Button} kind="primary" type="submit">查询<//>
          <${Button} onClick=${() => navigate('/products', {})}>重置<//>
        </div>
      </form>
    <//>
    <${Card}>
      ${list.error ? html`<${ErrorAlert} error=${list.error} />` : null}
      <${Table}
        loading=${list.loading}
        rows=${list.data ? list.data.items : []}
        empty="没有符合条件的商品"
        columns=${[
          {
            title: '商品',
            render: (p) => html`<div class="product-cell">
              <${Img} class="thumb" src=${p.images[0]} alt=${p.title} />
              <div class="product-cell__text">
                <a class="product-cell__title" href=${href(`/products/${p.id}`)}>${p.title}</a>
                <span class="muted small">${p.subtitle}</span>
              </div>
            </div>`,
          },
          { title: '分类', render: (p) => html`<span class="small">${categoryPath(p.category_id)}</span>` },
          { title: '价格', class: 'nowrap', render: priceRange },
          { title: '销量', class: 'num', key: 'sales' },
          { title: '状态', render: (p) => html`<${StatusTag} map=${productStatus} value=${p.status} />` },
          { title: '更新时间', class: 'nowrap small', render: (p) => formatTime(p.updated_at) },
          {
            title: '操作',
            render: (p) => html`<div class="actions">
              <a class="el-btn el-btn--text el-btn--small" href=${href(`/products/${p.id}`)}>编辑</a>
              <${ShelfButton} product=${p} onDone=${list.reload} />
              <a class="el-btn el-btn--text el-btn--small" href=${href('/stock', { product: p.id })}>库存</a>
              <${Button} kind="text-danger" size="small" onClick=${() => remove(p)}>删除<//>
            </div>`,
          },
        ]}
      />
      ${list.data
        ? html`<${Pagination}
            page=${list.data.page}
            pageSize=${list.data.page_size}
            total=${list.data.total}
            onChange=${(p) => navigate('/products', { ...query, page: p })}
          />`
        : null}
    <//>
  `;
}
