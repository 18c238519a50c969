// 新增/编辑商品: title, category, images (uploaded), description (rich text), the specs the
// product declares and one SKU per combination of their values, with prices typed in yuan
// (sent in fen) and the starting stock.
//
// A product is several resources on the API (the product, each SKU, each SKU's stock), so
// saving an edited product is a sequence: delete the SKUs whose combination is gone, replace
// the product, replace changed SKUs, add new ones and set their stock. Each step that succeeds
// is remembered, so saving again after a refusal carries on without doing anything twice.
import { html, useState, useEffect, useMemo } from '/ui/vendor/preact-htm.js';
import { parseYuan, yuanInput } from '/ui/shared/format.js';
import { errorMessage } from '/ui/shared/api.js';
import { api } from '../session.js';
import { href, navigate } from '../router.js';
import { Button, Card, Field, ErrorAlert, Loading, PageHeader, confirmAction, toast, toastError, useAction, serverFieldErrors } from '../ui.js';
import { Img, useLoad } from '/ui/shared/ui.js';
import { CategorySelect, StatusTag, loadCategories, productStatus } from '../data.js';
import { RichTextEditor } from '../rich-text.js';

const MAX_IMAGES = 20;
const MAX_SPECS = 5;
const MAX_SKUS = 200;
const MAX_UPLOAD_BYTES = 5 << 20;
const MAX_STOCK = 100000000;

let uidSeq = 0;
const newUid = () => `s${++uidSeq}`;

// specKey names a combination of spec values independently of the order of its entries.
const specKey = (specs) => JSON.stringify(Object.entries(specs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

const declared = (specs) => specs.filter((s) => s.name.trim() && s.values.length).map((s) => ({ uid: s.uid, name: s.name.trim(), values: s.values }));

function combinations(specs) {
  let out = [{}];
  for (const sp of specs) out = out.flatMap((c) => sp.values.map((v) => ({ ...c, [sp.name]: v })));
  return out;
}

const blankRow = () => ({ enabled: true, price: '', list_price: '', code: '', stock: '', image: '' });

// skuSig is what a SKU save would change, to skip saving SKUs the form left alone.
const skuSig = (body) => JSON.stringify([body.price, body.list_price, body.code || '', body.image || '']);

function skuBody(specs, row) {
  const body = { specs, price: parseYuan(row.price), list_price: row.list_price.trim() ? parseYuan(row.list_price) : 0 };
  if (row.code.trim()) body.code = row.code.trim();
  if (row.image) body.image = row.image;
  return body;
}

const fieldLabels = { title: '商品标题', subtitle: '副标题', category_id: '商品分类', description: '商品详情', images: '商品图片', specs: '规格', skus: 'SKU', on_shelf: '上架' };
const formFields = new Set(['title', 'subtitle', 'category_id', 'description', 'images']);

// mapServerFields turns the API's field names into this form's: skus[i] by the SKU sent at i,
// specs[i] by the spec declared at i, and a single SKU's own fields by its combination.
function mapServerFields(err, { skuKeys = [], specUids = [], skuKey = null }) {
  const fields = {};
  const mapped = [];
  for (const [field, reason] of Object.entries(serverFieldErrors(err))) {
    let local = null;
    let m;
    if (formFields.has(field)) local = field;
    else if (field.startsWith('images[')) local = 'images';
    else if ((m = /^specs\[(\d+)\]\.(name|values)/.exec(field)) && specUids[m[1]]) local = `spec.${specUids[m[1]]}.${m[2]}`;
    else if ((m = /^skus\[(\d+)\]\.(price|list_price|code)$/.exec(field)) && skuKeys[m[1]]) local = `sku.${skuKeys[m[1]]}.${m[2]}`;
    else if (skuKey && (m = /^(price|list_price|code)$/.exec(field))) local = `sku.${skuKey}.${m[1]}`;
    if (local) {
      fields[local] = reason;
      mapped.push(field);
    }
  }
  return { fields, mapped };
}

function ImageUploader({ images, onAdd, onRemove, onFirst, error }) {
  const [uploading, setUploading] = useState(0);
  const [problem, setProblem] = useState('');
  const pick = async (e) => {
    const files = Array.from(e.target.files || []);
    e.target.value = '';
    setProblem('');
    let room = MAX_IMAGES - images.length;
    for (const file of files) {
      if (room <= 0) {
        setProblem(`最多上传 ${MAX_IMAGES} 张图片`);
        break;
      }
      if (!/^image\/(jpeg|png|gif|webp)$/.test(file.type)) {
        setProblem(`「${file.name}」不是 JPEG、PNG、GIF 或 WebP 图片`);
        continue;
      }
      if (file.size > MAX_UPLOAD_BYTES) {
        setProblem(`「${file.name}」超过 5 MB`);
        continue;
      }
      setUploading((n) => n + 1);
      try {
        const up = await api.upload('/api/v1/admin/images', file);
        onAdd(up.url);
        room--;
      } catch (err) {
        setProblem(`「${file.name}」上传失败：${errorMessage(err)}`);
      } finally {
        setUploading((n) => n - 1);
      }
    }
  };
  return html`<div>
    <div class="image-list" data-testid="product-images">
      ${images.map(
        (url, i) => html`<div class="image-item" key=${url}>
          <${Img} src=${url} alt=${`商品图片 ${i + 1}`} />
          ${i === 0 ? html`<span class="image-item__badge">主图</span>` : null}
          <div class="image-item__tools">
            ${i > 0 ? html`<button type="button" onClick=${() => onFirst(url)}>设为主图</button>` : null}
            <button type="button" aria-label=${`删除图片 ${i + 1}`} onClick=${() => onRemove(url)}>删除</button>
          </div>
        </div>`,
      )}
      ${images.length < MAX_IMAGES
        ? html`<label class="upload-box">
            <span class="upload-box__plus">${uploading ? '…' : '＋'}</span>${uploading ? `上传中（${uploading}）` : '上传图片'}
            <input class="visually-hidden" type="file" name="image" accept="image/jpeg,image/png,image/gif,image/webp" multiple onChange=${pick} />
          </label>`
        : null}
    </div>
    ${problem || error ? html`<div class="el-form-item__error">${problem || error}</div>` : html`<div class="el-form-item__hint">第一张为主图；JPEG、PNG、GIF 或 WebP，每张不超过 5 MB，最多 ${MAX_IMAGES} 张</div>`}
  </div>`;
}

function SpecEditor({ specs, setSpecs, errors }) {
  const update = (uid, change) => setSpecs((list) => list.map((s) => (s.uid === uid ? { ...s, ...change(s) } : s)));
  const addValues = (uid) =>
    update(uid, (s) => {
      const fresh = s.draft
        .split(/[,，、\n]/)
        .map((v) => v.trim())
        .filter((v) => v && !s.values.includes(v));
      return { values: [...s.values, ...new Set(fresh)], draft: '' };
    });
  return html`<div>
    ${specs.map(
      (s, i) => html`<div class="spec-block" key=${s.uid}>
        <div class="spec-block__head">
          <input class=${`el-input${errors[`spec.${s.uid}.name`] ? ' is-invalid' : ''}`} aria-label=${`规格名 ${i + 1}`} placeholder="规格名，如 颜色" maxlength="20"
            value=${s.name} onInput=${(e) => update(s.uid, () => ({ name: e.target.value }))} />
          <${Button} kind="text-danger" size="small" onClick=${() => setSpecs((list) => list.filter((x) => x.uid !== s.uid))}>删除规格<//>
          ${errors[`spec.${s.uid}.name`] ? html`<span class="cell-error">${errors[`spec.${s.uid}.name`]}</span>` : null}
        </div>
        <div class="tag-list">
          ${s.values.map(
            (v) => html`<span class="el-tag el-tag--info" key=${v}>${v}<button type="button" class="tag-close" aria-label=${`删除规格值 ${v}`}
              onClick=${() => update(s.uid, (x) => ({ values: x.values.filter((y) => y !== v) }))}>×</button></span>`,
          )}
          <input class="el-input el-input--small spec-value-input" aria-label=${`规格值 ${i + 1}`} placeholder="输入规格值，回车添加" maxlength="200"
            value=${s.draft} onInput=${(e) => update(s.uid, () => ({ draft: e.target.value }))}
            onKeyDown=${(e) => { if (e.key === 'Enter') { e.preventDefault(); addValues(s.uid); } }}
            onBlur=${() => s.draft.trim() && addValues(s.uid)} />
        </div>
        ${errors[`spec.${s.uid}.values`] ? html`<div class="cell-error">${errors[`spec.${s.uid}.values`]}</div>` : null}
      </div>`,
    )}
    <${Button} size="small" disabled=${specs.length >= MAX_SPECS} onClick=${() => setSpecs((list) => [...list, { uid: newUid(), name: '', values: [], draft: '' }])}>＋ 添加规格<//>
    <span class="muted small"> 最多 ${MAX_SPECS} 个规格，如 颜色、尺码；不加规格则商品只有一个 SKU</span>
  </div>`;
}

function SkuTable({ specs, combos, rows, setRow, errors, editing }) {
  const [batch, setBatch] = useState({ price: '', list_price: '', stock: '' });
  const fill = () => {
    for (const c of combos) {
      const r = rows[c.key] || blankRow();
      if (!r.enabled) continue;
      const change = {};
      if (batch.price.trim()) change.price = batch.price.trim();
      if (batch.list_price.trim()) change.list_price = batch.list_price.trim();
      if (batch.stock.trim() && !r.id) change.stock = batch.stock.trim();
      setRow(c.key, change);
    }
  };
  const cellError = (key, f) => (errors[`sku.${key}.${f}`] ? html`<div class="cell-error">${errors[`sku.${key}.${f}`]}</div>` : null);
  const input = (key, row, f, label, extra = {}) =>
    html`<input class=${`el-input el-input--small${errors[`sku.${key}.${f}`] ? ' is-invalid' : ''}`} aria-label=${label} value=${row[f]}
      disabled=${!row.enabled} onInput=${(e) => setRow(key, { [f]: e.target.value })} ...${extra} />`;
  return html`<div>
    <div class="batch-bar">
      <span class="muted small">批量填充：</span>
      <input class="el-input el-input--small" placeholder="售价（元）" aria-label="批量售价" value=${batch.price} onInput=${(e) => setBatch({ ...batch, price: e.target.value })} />
      <input class="el-input el-input--small" placeholder="划线价（元）" aria-label="批量划线价" value=${batch.list_price} onInput=${(e) => setBatch({ ...batch, list_price: e.target.value })} />
      <input class="el-input el-input--small" placeholder=${editing ? '新 SKU 库存' : '库存'} aria-label="批量库存" value=${batch.stock} onInput=${(e) => setBatch({ ...batch, stock: e.target.value })} />
      <${Button} size="small" onClick=${fill}>填充<//>
    </div>
    <div class="el-table sku-table">
      <table>
        <thead>
          <tr>
            ${specs.map((s) => html`<th key=${s.uid}>${s.name}</th>`)}
            <th class="is-required">售价（元）</th>
            <th>划线价（元）</th>
            <th>SKU 编码</th>
            <th>库存</th>
            <th>启用</th>
          </tr>
        </thead>
        <tbody>
          ${combos.map((c, i) => {
            const row = rows[c.key] || blankRow();
            const name = Object.values(c.specs).join(' / ') || '默认规格';
            return html`<tr key=${c.key} class=${row.enabled ? '' : 'sku-row--off'} data-sku=${name}>
              ${specs.map((s) => html`<td key=${s.uid}>${c.specs[s.name]}</td>`)}
              <td>${input(c.key, row, 'price', `${name} 售价`, { inputmode: 'decimal', placeholder: '0.00' })}${cellError(c.key, 'price')}</td>
              <td>${input(c.key, row, 'list_price', `${name} 划线价`, { inputmode: 'decimal', placeholder: '选填' })}${cellError(c.key, 'list_price')}</td>
              <td>${input(c.key, row, 'code', `${name} 编码`, { placeholder: '选填', maxlength: 64 })}${cellError(c.key, 'code')}</td>
              <td>
                ${row.id
                  ? html`<span>${row.available ?? 0}</span> <a class="small" href=${href(`/stock/${row.id}`)}>调整</a>`
                  : html`${input(c.key, row, 'stock', `${name} 库存`, { inputmode: 'numeric', placeholder: '0' })}${cellError(c.key, 'stock')}`}
              </td>
              <td><input type="checkbox" aria-label=${`${name} 启用`} checked=${row.enabled} onChange=${(e) => setRow(c.key, { enabled: e.target.checked })} /></td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>
    ${errors.skus ? html`<div class="el-form-item__error">${errors.skus}</div>` : null}
    ${editing ? html`<div class="el-form-item__hint">已有 SKU 的库存请在库存管理中调整（可售库存会随订单变化，在这里改易覆盖别人的改动）。</div>` : null}
  </div>`;
}

const emptyForm = () => ({ title: '', subtitle: '', category_id: '', images: [], description: '', specs: [] });

export default function ProductEdit({ params }) {
  const id = params.id;
  const editing = Boolean(id);
  const categories = useLoad(loadCategories, []);
  const [product, setProduct] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [form, setForm] = useState(emptyForm);
  const [rows, setRows] = useState({});
  const [existing, setExisting] = useState([]);
  const [errors, setErrors] = useState({});
  const [failure, setFailure] = useState(null);
  const [loads, setLoads] = useState(0);

  const resetFrom = (p) => {
    setProduct(p);
    setLoads((n) => n + 1);
    setForm({
      title: p.title,
      subtitle: p.subtitle,
      category_id: p.category_id,
      images: p.images,
      description: p.description,
      specs: p.specs.map((s) => ({ uid: newUid(), name: s.name, values: [...s.values], draft: '' })),
    });
    const r = {};
    for (const sku of p.skus || []) {
      r[specKey(sku.specs)] = {
        id: sku.id,
        enabled: true,
        price: yuanInput(sku.price),
        list_price: sku.list_price ? yuanInput(sku.list_price) : '',
        code: sku.code || '',
        image: sku.image || '',
        stock: '',
        available: sku.stock,
        saved: skuSig({ price: sku.price, list_price: sku.list_price, code: sku.code, image: sku.image }),
      };
    }
    setRows(r);
    setExisting((p.skus || []).map((s) => ({ id: s.id, key: specKey(s.specs), name: Object.values(s.specs).join(' / ') || '默认规格' })));
    setErrors({});
    setFailure(null);
  };

  // A late answer for another product (the route moved on) must not fill this form.
  useEffect(() => {
    if (!editing) return undefined;
    let live = true;
    setLoadError(null);
    api.get(`/api/v1/admin/products/${id}`).then(
      (p) => live && resetFrom(p),
      (err) => live && setLoadError(err),
    );
    return () => {
      live = false;
    };
  }, [id]);

  const specs = useMemo(() => declared(form.specs), [form.specs]);
  const combos = useMemo(() => combinations(specs).map((s) => ({ specs: s, key: specKey(s) })), [specs]);
  const rowOf = (key) => rows[key] || blankRow();
  // Editing a value clears the complaint about it.
  const forget = (...names) =>
    setErrors((e) => (names.some((n) => n in e) ? Object.fromEntries(Object.entries(e).filter(([k]) => !names.includes(k))) : e));
  const setRow = (key, change) => {
    setRows((r) => ({ ...r, [key]: { ...(r[key] || blankRow()), ...change } }));
    forget(...Object.keys(change).map((f) => `sku.${key}.${f}`), 'skus');
  };
  const set = (field) => (value) => {
    setForm((f) => ({ ...f, [field]: value }));
    forget(field);
  };
  const enabledCombos = combos.filter((c) => rowOf(c.key).enabled);
  const enabledKeys = new Set(enabledCombos.map((c) => c.key));
  const doomed = existing.filter((e) => !enabledKeys.has(e.key));

  function validate() {
    const e = {};
    const title = form.title.trim();
    if (!title) e.title = '请输入商品标题';
    else if (title.length > 100) e.title = '标题最多 100 个字';
    if (form.subtitle.trim().length > 200) e.subtitle = '副标题最多 200 个字';
    if (!form.category_id) e.category_id = '请选择商品分类';
    if (new TextEncoder().encode(form.description).length > 50000) e.description = '商品详情过长（最多 50000 字节）';
    const names = new Set();
    for (const s of form.specs) {
      const name = s.name.trim();
      if (!name && !s.values.length) continue;
      if (!name) e[`spec.${s.uid}.name`] = '请输入规格名';
      else if (name.length > 20) e[`spec.${s.uid}.name`] = '规格名最多 20 个字';
      else if (names.has(name)) e[`spec.${s.uid}.name`] = '规格名不能重复';
      names.add(name);
      if (!s.values.length) e[`spec.${s.uid}.values`] = '至少添加一个规格值';
      else if (s.values.length > 50) e[`spec.${s.uid}.values`] = '规格值最多 50 个';
      else if (s.values.some((v) => v.length > 30)) e[`spec.${s.uid}.values`] = '每个规格值最多 30 个字';
    }
    if (combos.length > MAX_SKUS) e.skus = `规格组合最多 ${MAX_SKUS} 个，当前 ${combos.length} 个`;
    else if (!enabledCombos.length) e.skus = '至少启用一个 SKU';
    for (const c of enabledCombos) {
      const r = rowOf(c.key);
      const price = parseYuan(r.price);
      if (!r.price.trim()) e[`sku.${c.key}.price`] = '请输入售价';
      else if (price === null || price <= 0) e[`sku.${c.key}.price`] = '金额格式不对，如 99.90';
      if (r.list_price.trim() && parseYuan(r.list_price) === null) e[`sku.${c.key}.list_price`] = '金额格式不对，如 129.00';
      if (r.code.trim().length > 64) e[`sku.${c.key}.code`] = '编码最多 64 个字符';
      if (!r.id && r.stock.trim()) {
        if (!/^\d+$/.test(r.stock.trim())) e[`sku.${c.key}.stock`] = '库存须为不小于 0 的整数';
        else if (Number(r.stock) > MAX_STOCK) e[`sku.${c.key}.stock`] = '库存最多 1 亿';
      }
    }
    return e;
  }

  const productBody = () => ({
    category_id: form.category_id,
    title: form.title.trim(),
    subtitle: form.subtitle.trim(),
    description: form.description,
    images: form.images,
    specs: specs.map(({ name, values }) => ({ name, values })),
  });

  const refuse = (err, ctx) => {
    const { fields, mapped } = mapServerFields(err, ctx);
    setErrors(fields);
    setFailure({ err, mapped });
  };

  const setStock = async (skuId, text, reason) => {
    const n = text.trim() ? Number(text.trim()) : 0;
    if (n > 0) await api.put(`/api/v1/admin/skus/${skuId}/stock`, { stock: n, reason });
  };

  async function create() {
    const sent = enabledCombos;
    let created;
    try {
      created = await api.post('/api/v1/admin/products', { ...productBody(), skus: sent.map((c) => skuBody(c.specs, rowOf(c.key))) });
    } catch (err) {
      refuse(err, { skuKeys: sent.map((c) => c.key), specUids: specs.map((s) => s.uid) });
      return;
    }
    let stockProblem = null;
    for (const sku of created.skus || []) {
      try {
        await setStock(sku.id, rowOf(specKey(sku.specs)).stock, '新建商品');
      } catch (err) {
        stockProblem = err;
      }
    }
    if (stockProblem) toast('error', `商品已创建，但部分库存未设置成功：${errorMessage(stockProblem)}`);
    else toast('success', '商品已创建');
    navigate(`/products/${created.id}`, {}, { replace: true });
  }

  async function update() {
    if (doomed.length) {
      const ok = await confirmAction({
        title: '删除 SKU',
        message: `以下 SKU 已不在当前规格中或被停用，保存时将删除：${doomed.map((d) => d.name).join('、')}。确定继续吗？`,
        okText: '删除并保存',
        danger: true,
      });
      if (!ok) return;
    }
    const work = { ...rows };
    let left = [...existing];
    const commit = () => {
      setRows({ ...work });
      setExisting([...left]);
    };
    let step = null;
    try {
      for (const d of doomed) {
        step = { skuKey: d.key };
        await api.del(`/api/v1/admin/skus/${d.id}`);
        left = left.filter((x) => x.id !== d.id);
        if (work[d.key]) work[d.key] = { ...work[d.key], id: undefined, saved: undefined, available: undefined };
      }
      step = { specUids: specs.map((s) => s.uid) };
      await api.put(`/api/v1/admin/products/${id}`, productBody());
      for (const c of enabledCombos) {
        const r = work[c.key] || blankRow();
        const body = skuBody(c.specs, r);
        step = { skuKey: c.key };
        if (r.id) {
          if (skuSig(body) !== r.saved) {
            await api.put(`/api/v1/admin/skus/${r.id}`, body);
            work[c.key] = { ...r, saved: skuSig(body) };
          }
        } else {
          const sku = await api.post(`/api/v1/admin/products/${id}/skus`, body);
          work[c.key] = { ...r, id: sku.id, saved: skuSig(body), available: 0 };
          left = [...left, { id: sku.id, key: c.key, name: Object.values(c.specs).join(' / ') || '默认规格' }];
          await setStock(sku.id, r.stock, '新增 SKU');
        }
      }
    } catch (err) {
      commit();
      refuse(err, step || {});
      return;
    }
    commit();
    toast('success', '商品已保存');
    try {
      resetFrom(await api.get(`/api/v1/admin/products/${id}`));
    } catch (err) {
      toastError(err);
    }
  }

  const [save, saving] = useAction(async () => {
    const found = validate();
    setErrors(found);
    setFailure(null);
    if (Object.keys(found).length) {
      toast('error', '请检查标出的内容');
      return;
    }
    if (editing) await update();
    else await create();
  });

  const [toggleShelf, shelving] = useAction(async () => {
    const on = product.status === 'on_shelf';
    try {
      const p = await api.post(`/api/v1/admin/products/${id}/${on ? 'off-shelf' : 'on-shelf'}`);
      setProduct((old) => ({ ...old, status: p.status }));
      toast('success', on ? '已下架' : '已上架');
    } catch (err) {
      toastError(err);
    }
  });

  if (editing && loadError) return html`<${PageHeader} title="编辑商品" back=${href('/products')} /><${ErrorAlert} error=${loadError} />`;
  if ((editing && !product) || !categories.data) {
    return categories.error ? html`<${ErrorAlert} error=${categories.error} />` : html`<${Loading} />`;
  }

  return html`
    <${PageHeader}
      title=${editing ? `编辑商品` : '新增商品'}
      back=${href('/products')}
      extra=${editing
        ? html`<${StatusTag} map=${productStatus} value=${product.status} />
            <a class="el-btn" href=${href('/stock', { product: id })}>查看库存</a>
            <${Button} kind=${product.status === 'on_shelf' ? 'warning' : 'success'} busy=${shelving} onClick=${toggleShelf}>
              ${product.status === 'on_shelf' ? '下架' : '上架'}
            <//>`
        : null}
    />
    ${failure ? html`<${ErrorAlert} error=${failure.err} shown=${failure.mapped} labels=${fieldLabels} />` : null}
    <form class="stack" novalidate onSubmit=${(e) => { e.preventDefault(); save(); }}>
      <${Card} title="基本信息">
        <div class="el-form el-form--narrow">
          <${Field} label="商品标题" required error=${errors.title}>
            <input class="el-input" id="product-title" name="title" maxlength="100" value=${form.title} onInput=${(e) => set('title')(e.target.value)} placeholder="如 Apple iPhone 15 128G" />
          <//>
          <${Field} label="副标题" error=${errors.subtitle}>
            <input class="el-input" id="product-subtitle" name="subtitle" maxlength="200" value=${form.subtitle} onInput=${(e) => set('subtitle')(e.target.value)} placeholder="卖点，选填" />
          <//>
          <${Field} label="商品分类" required error=${errors.category_id}>
            <${CategorySelect} id="product-category" categories=${categories.data} value=${form.category_id} onChange=${set('category_id')} placeholder="请选择分类" />
          <//>
          <${Field} label="商品图片" error=${errors.images}>
            <${ImageUploader}
              images=${form.images}
              onAdd=${(url) => setForm((f) => (f.images.includes(url) ? f : { ...f, images: [...f.images, url] }))}
              onRemove=${(url) => setForm((f) => ({ ...f, images: f.images.filter((u) => u !== url) }))}
              onFirst=${(url) => setForm((f) => ({ ...f, images: [url, ...f.images.filter((u) => u !== url)] }))}
            />
          <//>
        </div>
      <//>
      <${Card} title="规格与价格">
        <${Field} label="商品规格" class="el-form-item--stacked">
          <${SpecEditor} specs=${form.specs} setSpecs=${(fn) => setForm((f) => ({ ...f, specs: fn(f.specs) }))} errors=${errors} />
        <//>
        <${Field} label=${`SKU（${combos.length}）`} class="el-form-item--stacked">
          <${SkuTable} specs=${specs} combos=${combos} rows=${rows} setRow=${setRow} errors=${errors} editing=${editing} />
          ${editing && doomed.length
            ? html`<div class="el-alert el-alert--warning">保存时将删除 SKU：${doomed.map((d) => d.name).join('、')}</div>`
            : null}
        <//>
      <//>
      <${Card} title="商品详情">
        <${Field} label="" class="el-form-item--stacked" error=${errors.description}>
          <${RichTextEditor} key=${loads} id="product-description" initialValue=${form.description} onChange=${set('description')} />
        <//>
      <//>
      <div class="form-actions">
        <a class="el-btn" href=${href('/products')}>取消</a>
        <${Button} kind="primary" type="submit" busy=${saving}>${editing ? '保存' : '创建商品'}<//>
      </div>
    </form>
  `;
}
