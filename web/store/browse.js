// Browsing: the category tree (#/category/<id>: top-level categories on the left, the chosen
// category's path, subcategories and products on the right) and search (#/search?q=…).
import { html, useState } from '/ui/vendor/preact-htm.js';
import { useLoad } from '/ui/shared/ui.js';
import { withQuery } from '/ui/shared/url.js';
import { SearchBox } from './home.js';
import { Empty, ErrorText, Loading, loadCategories, navigate, TopBar } from './lib.js';
import { listSorts, ProductList, searchSorts, SortBar } from './products.js';

// findPath returns the categories from the top level down to id, or null when id is not in the
// visible tree (hidden since, or never existed).
function findPath(nodes, id, path = []) {
  for (const node of nodes) {
    const here = [...path, node];
    if (node.id === id) return here;
    const below = node.children ? findPath(node.children, id, here) : null;
    if (below) return below;
  }
  return null;
}

export function CategoryPage({ params, query }) {
  const tree = useLoad(loadCategories, []);
  const sort = query.get('sort') || 'newest';
  if (tree.error) return html`<div class="page"><${TopBar} title="分类" /><${ErrorText} error=${tree.error} /></div>`;
  if (!tree.data) return html`<div class="page"><${TopBar} title="分类" /><${Loading} /></div>`;
  const tops = tree.data.items;
  if (!tops.length) return html`<div class="page"><${TopBar} title="分类" /><${Empty} text="暂无分类" /></div>`;
  const id = params[0] || tops[0].id;
  const path = findPath(tops, id);
  if (!path) {
    return html`<div class="page"><${TopBar} title="分类" /><${Empty} text="分类不存在或已隐藏"><a class="btn" href="#/category">查看全部分类</a><//></div>`;
  }
  const current = path[path.length - 1];
  const setSort = (s) => navigate(withQuery(`/category/${id}`, { sort: s === 'newest' ? '' : s }), { replace: true });
  return html`<div class="page category-page">
    <${TopBar} title="分类" />
    <div class="category-layout">
      <nav class="category-side" aria-label="一级分类">
        ${tops.map(
          (c) => html`<a key=${c.id} href=${`#/category/${c.id}`} class=${c.id === path[0].id ? 'active' : ''}
            aria-current=${c.id === path[0].id ? 'true' : undefined}>${c.name}</a>`,
        )}
      </nav>
      <section class="category-main">
        <nav class="breadcrumb" aria-label="当前分类">
          ${path.map((c, i) => html`${i > 0 && html`<span aria-hidden="true"> › </span>`}<a key=${c.id} href=${`#/category/${c.id}`}>${c.name}</a>`)}
        </nav>
        ${current.children &&
        html`<div class="chips" aria-label="子分类">
          ${current.children.map((c) => html`<a key=${c.id} class="chip" href=${`#/category/${c.id}`}>${c.name}</a>`)}
        </div>`}
        <${SortBar} value=${sort} options=${listSorts} onChange=${setSort} />
        <${ProductList} path="/api/v1/products" query=${{ category_id: id, sort }} emptyText="这个分类下暂无商品" />
      </section>
    </div>
  </div>`;
}

export function SearchPage({ query }) {
  const q = (query.get('q') || '').trim();
  const sort = query.get('sort') || 'relevance';
  const [total, setTotal] = useState(null);
  return html`<div class="page search-page">
    <${TopBar} title="搜索" />
    <div class="pad-x"><${SearchBox} key=${q} initial=${q} autofocus=${!q} /></div>
    ${q
      ? html`
          <p class="muted small pad-x" aria-live="polite">${total === null ? '' : `找到 ${total} 件与「${q}」相关的商品`}</p>
          <${SortBar} value=${sort} options=${searchSorts}
            onChange=${(s) => navigate(withQuery('/search', { q, sort: s === 'relevance' ? '' : s }), { replace: true })} />
          <${ProductList} path="/api/v1/search" query=${{ q, sort }} emptyText=${`没有找到与「${q}」相关的商品`} onTotal=${setTotal} />`
      : html`<${Empty} text="输入商品名称、品牌或分类搜索" />`}
  </div>`;
}
