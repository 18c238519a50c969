// The product page (#/product/<id>): images, title, price, the SKU picker with live stock, the
// quantity, 加入购物车 / 立即购买, and the description.
import { html, useEffect, useMemo, useState } from '/ui/vendor/preact-htm.js';
import { formatYuan } from '/ui/shared/format.js';
import { Img, useLoad } from '/ui/shared/ui.js';
import { withQuery } from '/ui/shared/url.js';
import { api, ErrorText, Loading, loginRoute, navigate, showToast, Stepper, TopBar, useSession } from './lib.js';
import { priceRange } from './products.js';
import { richText } from './richtext.js';

// ---- SKU choice -------------------------------------------------------------------------
// A choice maps spec names to the values picked so far. A value can be picked when some SKU
// in stock has it together with every other value already picked, so the buyer can never
// arrive at a combination that is sold out or does not exist.

function matches(sku, choice, except) {
  for (const [name, value] of Object.entries(choice)) {
    if (name !== except && sku.specs[name] !== value) return false;
  }
  return true;
}

function valueAvailable(skus, choice, name, value) {
  return skus.some((s) => s.stock > 0 && s.specs[name] === value && matches(s, choice, name));
}

// chosenSku is the SKU the choice names completely, or null while a spec is still open.
function chosenSku(product, choice) {
  if (product.specs.length === 0) return product.skus.length === 1 ? product.skus[0] : null;
  if (product.specs.some((spec) => !(spec.name in choice))) return null;
  return product.skus.find((s) => matches(s, choice)) || null;
}

// initialChoice picks the only SKU for the buyer when there is nothing to choose.
function initialChoice(product) {
  const inStock = product.skus.filter((s) => s.stock > 0);
  return product.skus.length === 1 && inStock.length === 1 ? { ...inStock[0].specs } : {};
}

function SkuPicker({ product, choice, onChoose }) {
  return html`<div class="sku-picker">
    ${product.specs.map(
      (spec) => html`<div key=${spec.name} class="spec-row" role="group" aria-label=${spec.name}>
        <span class="spec-name">${spec.name}</span>
        <div class="spec-values">
          ${spec.values.map((value) => {
            const picked = choice[spec.name] === value;
            const available = valueAvailable(product.skus, choice, spec.name, value);
            return html`<button type="button" key=${value} class=${`spec-value ${picked ? 'picked' : ''}`}
              aria-pressed=${picked} disabled=${!available && !picked}
              title=${available ? '' : '无货'}
              onClick=${() => onChoose(spec.name, picked ? null : value)}>${value}</button>`;
          })}
        </div>
      </div>`,
    )}
  </div>`;
}

function Gallery({ images, title }) {
  if (!images.length) return html`<div class="gallery"><${Img} alt=${title} class="gallery-image" /></div>`;
  return html`<div class="gallery" aria-label="商品图片">
    ${images.map((src, i) => html`<${Img} key=${src} src=${src} alt=${`${title} 图 ${i + 1}`} class="gallery-image" />`)}
  </div>`;
}

function ProductView({ product }) {
  const { user } = useSession();
  const [choice, setChoice] = useState(() => initialChoice(product));
  const [quantity, setQuantity] = useState(1);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [hint, setHint] = useState('');
  const sku = chosenSku(product, choice);
  const maxQuantity = sku ? Math.min(sku.stock, 99) : 99;
  const description = useMemo(() => richText(product.description), [product.description]);

  // The quantity follows the chosen SKU's stock.
  useEffect(() => {
    if (sku && quantity > maxQuantity) setQuantity(Math.max(1, maxQuantity));
  }, [sku && sku.id, maxQuantity]);

  const choose = (name, value) => {
    const next = { ...choice };
    if (value === null) delete next[name];
    else next[name] = value;
    setChoice(next);
    setHint('');
    setError(null);
  };

  const missing = product.specs.filter((s) => !(s.name in choice)).map((s) => s.name);
  const soldOut = product.stock <= 0;

  // ready checks the choice before a button acts; it answers the SKU, or null with the reason
  // shown next to the picker.
  const ready = () => {
    if (!sku) {
      setHint(missing.length ? `请选择 ${missing.join('、')}` : '这个组合暂时无货');
      return null;
    }
    if (sku.stock <= 0) {
      setHint('这个规格暂时无货');
      return null;
    }
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > maxQuantity) {
      setHint(`数量需在 1 到 ${maxQuantity} 之间`);
      return null;
    }
    if (!user) {
      navigate(loginRoute(`/product/${product.id}`));
      return null;
    }
    return sku;
  };

  const addToCart = async () => {
    const chosen = ready();
    if (!chosen || busy) return;
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/v1/cart/items', { sku_id: chosen.id, quantity });
      showToast('已加入购物车');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const buyNow = () => {
    const chosen = ready();
    if (chosen) navigate(withQuery('/checkout', { product: product.id, sku: chosen.id, qty: quantity }));
  };

  const price = sku ? formatYuan(sku.price) : priceRange(product.price_min, product.price_max);
  const listPrice = sku && sku.list_price > sku.price ? formatYuan(sku.list_price) : '';
  return html`<div class="page product-page">
    <${TopBar} title="商品详情" />
    <${Gallery} images=${product.images} title=${product.title} />
    <section class="card product-info">
      <p class="product-price"><span class="price big" data-testid="product-price">${price}</span>
        ${listPrice && html`<del class="muted small">${listPrice}</del>`}</p>
      <h2 class="product-name">${product.title}</h2>
      ${product.subtitle && html`<p class="muted">${product.subtitle}</p>`}
      <p class="muted small">已售 ${product.sales} · ${product.category_path.map((c) => c.name).join(' › ')}</p>
    </section>
    <section class="card">
      <${SkuPicker} product=${product} choice=${choice} onChoose=${choose} />
      <div class="quantity-row">
        <span class="spec-name">数量</span>
        <${Stepper} value=${quantity} max=${Math.max(1, maxQuantity)} disabled=${!sku || sku.stock <= 0} onChange=${setQuantity} />
        <span class="muted small" data-testid="sku-stock">
          ${sku ? (sku.stock > 0 ? `库存 ${sku.stock} 件` : '无货') : soldOut ? '已售罄' : `请选择 ${missing.join('、')}`}
        </span>
      </div>
      ${hint && html`<p class="field-error" role="alert">${hint}</p>`}
      <${ErrorText} error=${error} />
    </section>
    <section class="card">
      <h3 class="section-title">商品详情</h3>
      <div class="rich">${description}</div>
    </section>
    <div class="action-bar">
      <a class="action-link" href="#/cart">购物车</a>
      <button type="button" class="btn btn-secondary" disabled=${soldOut || busy} onClick=${addToCart}>加入购物车</button>
      <button type="button" class="btn btn-primary" disabled=${soldOut || busy} onClick=${buyNow}>${soldOut ? '已售罄' : '立即购买'}</button>
    </div>
  </div>`;
}

export function ProductPage({ params }) {
  const id = params[0];
  const { data, error } = useLoad(() => api.get(`/api/v1/products/${id}`), [id]);
  if (error) return html`<div class="page"><${TopBar} title="商品详情" /><${ErrorText} error=${error} /></div>`;
  if (!data) return html`<div class="page"><${TopBar} title="商品详情" /><${Loading} /></div>`;
  return html`<${ProductView} key=${data.id} product=${data} />`;
}
