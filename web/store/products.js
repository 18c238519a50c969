// Product lists: the grid of product cards the home, category and search pages show, one page
// of the API at a time with a "加载更多" button, and the sort bar above it.
import { html, useEffect } from '/ui/vendor/preact-htm.js';
import { formatYuan } from '/ui/shared/format.js';
import { Img } from '/ui/shared/ui.js';
import { api, Empty, ErrorText, Loading, usePages } from './lib.js';

const pageSize = 20;

export const listSorts = [
  ['newest', '最新'],
  ['sales', '销量'],
  ['price_asc', '价格↑'],
  ['price_desc', '价格↓'],
];
export const searchSorts = [['relevance', '综合'], ...listSorts];

// Product pages asked for before the first render (prefetchProducts), by URL: the home page
// starts its list while the page's modules are still being evaluated, instead of after its
// first paint.
const early = new Map();

function pageKey(path, query) {
  return `${path}?${new URLSearchParams(query)}`;
}

export function prefetchProducts(path, query) {
  const q = { ...query, page: 1, page_size: pageSize };
  const answer = api.get(path, { query: q });
  answer.catch(() => {}); // the list that takes it shows the error
  early.set(pageKey(path, q), answer);
}

function getPage(path, query) {
  const key = pageKey(path, query);
  const answer = early.get(key);
  if (!answer) return api.get(path, { query });
  early.delete(key);
  return answer;
}

// SortBar is a row of toggle buttons, the pressed one being the list's order.
export function SortBar({ value, options, onChange }) {
  return html`<div class="sortbar" role="group" aria-label="排序">
    ${options.map(
      ([key, label]) => html`<button type="button" aria-pressed=${key === value ? 'true' : 'false'}
        class=${key === value ? 'active' : ''} onClick=${() => onChange(key)}>${label}</button>`,
    )}
  </div>`;
}

export function priceRange(min, max) {
  return min === max ? formatYuan(min) : `${formatYuan(min)} 起`;
}

function ProductCard({ product }) {
  return html`<li>
    <a class="product-card" href=${`#/product/${product.id}`}>
      <${Img} src=${product.image} class="product-image" />
      <span class="product-title">${product.title}</span>
      <span class="product-meta">
        <span class="price">${priceRange(product.price_min, product.price_max)}</span>
        <span class="muted small">已售 ${product.sales}</span>
      </span>
    </a>
  </li>`;
}

// ProductList pages through path (/api/v1/products or /api/v1/search) with query; a new query
// starts again from page 1.
export function ProductList({ path, query, emptyText = '暂无商品', onTotal }) {
  const list = usePages((page) => getPage(path, { ...query, page, page_size: pageSize }), JSON.stringify([path, query]));
  const { items, total, loading, error, page } = list;
  useEffect(() => {
    if (onTotal && !loading && !error) onTotal(total);
  }, [loading, total]);
  // total may still count a product taken off shelf a moment ago, so pages, not items, decide.
  const more = page * pageSize < total && page < 500;
  return html`<section class="product-list" aria-busy=${loading}>
    ${items.length > 0 && html`<ul class="product-grid">${items.map((p) => html`<${ProductCard} key=${p.id} product=${p} />`)}</ul>`}
    ${!loading && !error && items.length === 0 && html`<${Empty} text=${emptyText} />`}
    <${ErrorText} error=${error} />
    ${loading && html`<${Loading} />`}
    ${!loading && (more || error) && html`<button type="button" class="btn btn-wide load-more" onClick=${list.more}>${error ? '重试' : '加载更多'}</button>`}
    ${!loading && !more && items.length > 0 && html`<p class="muted center small">没有更多了</p>`}
  </section>`;
}
