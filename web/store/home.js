// The home page (#/): a search box, the top-level categories and the product list. It is part
// of the first download (app.js imports it), every other page loads when first opened.
import { html, useState } from '/ui/vendor/preact-htm.js';
import { Img, useLoad } from '/ui/shared/ui.js';
import { withQuery } from '/ui/shared/url.js';
import { ErrorText, loadCategories, navigate } from './lib.js';
import { listSorts, prefetchProducts, ProductList, SortBar } from './products.js';

export function SearchBox({ initial = '', autofocus = false }) {
  const [q, setQ] = useState(initial);
  const [error, setError] = useState('');
  const submit = (e) => {
    e.preventDefault();
    const words = q.trim();
    if (!words) return setError('请输入要搜索的商品');
    if (words.length > 64) return setError('搜索词最多 64 个字');
    setError('');
    navigate(withQuery('/search', { q: words }));
  };
  return html`<form class="searchbox" role="search" onSubmit=${submit}>
    <input type="search" name="q" placeholder="搜索商品，如 手机" aria-label="搜索商品" value=${q} maxlength="64"
      autofocus=${autofocus} onInput=${(e) => setQ(e.currentTarget.value)} />
    <button type="submit" class="btn btn-primary">搜索</button>
    ${error && html`<span class="field-error" role="alert">${error}</span>`}
  </form>`;
}

function CategoryEntries() {
  const { data, error } = useLoad(loadCategories, []);
  if (error) return html`<${ErrorText} error=${error} />`;
  if (!data) return html`<div class="category-entries placeholder"></div>`;
  return html`<nav class="category-entries" aria-label="商品分类">
    ${data.items.map(
      (c) => html`<a key=${c.id} href=${`#/category/${c.id}`} class="category-entry">
        ${c.icon_url ? html`<${Img} src=${c.icon_url} alt="" class="category-icon" />` : html`<span class="category-icon letter" aria-hidden="true">${c.name.slice(0, 1)}</span>`}
        <span>${c.name}</span>
      </a>`,
    )}
  </nav>`;
}

function homeSort(query) {
  return query.get('sort') || 'newest';
}

// prefetchHome starts the home page's requests before it first renders (app.js calls it when
// the page opens on #/), so the data is on its way while the page is being drawn.
export function prefetchHome(query) {
  loadCategories().catch(() => {}); // the category entries show the error
  prefetchProducts('/api/v1/products', { sort: homeSort(query) });
}

export function HomePage({ query }) {
  const sort = homeSort(query);
  return html`<div class="page home">
    <header class="home-header">
      <span class="brand">Minimart</span>
      <${SearchBox} />
    </header>
    <${CategoryEntries} />
    <h2 class="section-title">为你推荐</h2>
    <${SortBar} value=${sort} options=${listSorts} onChange=${(s) => navigate(withQuery('/', { sort: s === 'newest' ? '' : s }), { replace: true })} />
    <${ProductList} path="/api/v1/products" query=${{ sort }} />
  </div>`;
}
