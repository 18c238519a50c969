// The two ways staff change a SKU's stock: set the available count (a stocktake) or add to /
// take from it (a delivery, a loss), each with the reason the ledger keeps.
import { html, useState } from '/ui/vendor/preact-htm.js';
import { api } from './session.js';
import { Button, ErrorAlert, Field, toast, useFormAction } from './ui.js';

const MAX = 100000000;

export function SetStockForm({ skuId, level, onDone }) {
  const [stock, setStock] = useState(level ? String(level.available) : '');
  const [reason, setReason] = useState('');
  const [submit, busy, errors, failure] = useFormAction(async () => {
    const e = {};
    const text = stock.trim();
    if (!text) e.stock = '请输入可售库存';
    else if (!/^\d+$/.test(text)) e.stock = '库存须为不小于 0 的整数';
    else if (Number(text) > MAX) e.stock = '库存最多 1 亿';
    if (reason.trim().length > 200) e.reason = '原因最多 200 个字';
    if (Object.keys(e).length) return e;
    const body = { stock: Number(text) };
    if (reason.trim()) body.reason = reason.trim();
    const next = await api.put(`/api/v1/admin/skus/${skuId}/stock`, body);
    toast('success', `可售库存已设为 ${next.available}`);
    setReason('');
    onDone(next);
  });
  return html`<form class="el-form" novalidate onSubmit=${(e) => { e.preventDefault(); submit(); }} data-testid="stock-set-form">
    ${failure ? html`<${ErrorAlert} error=${failure} shown=${['stock', 'reason']} />` : null}
    <${Field} label="可售库存" required error=${errors.stock} hint="把可售库存直接设为这个数（预占和已售不变）">
      <input class="el-input" name="stock" aria-label="可售库存" inputmode="numeric" value=${stock} onInput=${(e) => setStock(e.target.value)} />
    <//>
    <${Field} label="原因" error=${errors.reason}>
      <input class="el-input" name="reason" aria-label="设置原因" maxlength="200" placeholder="选填，如 月度盘点" value=${reason} onInput=${(e) => setReason(e.target.value)} />
    <//>
    <${Field} label="">
      <${Button} kind="primary" type="submit" busy=${busy}>设置库存<//>
    <//>
  </form>`;
}

export function AdjustStockForm({ skuId, level, onDone }) {
  const [delta, setDelta] = useState('');
  const [reason, setReason] = useState('');
  const [submit, busy, errors, failure] = useFormAction(async () => {
    const e = {};
    const text = delta.trim().replace(/^\+/, '');
    if (!text) e.delta = '请输入增减数量';
    else if (!/^-?\d+$/.test(text) || Number(text) === 0) e.delta = '请输入非 0 整数，负数表示减少';
    else if (Math.abs(Number(text)) > MAX) e.delta = '一次最多增减 1 亿';
    else if (level && level.available + Number(text) < 0) e.delta = `可售库存只有 ${level.available}，不能减少这么多`;
    if (!reason.trim()) e.reason = '请填写原因，如 到货、盘亏';
    else if (reason.trim().length > 200) e.reason = '原因最多 200 个字';
    if (Object.keys(e).length) return e;
    const next = await api.post(`/api/v1/admin/skus/${skuId}/stock/adjustments`, { delta: Number(text), reason: reason.trim() });
    toast('success', `可售库存现为 ${next.available}`);
    setDelta('');
    setReason('');
    onDone(next);
  });
  return html`<form class="el-form" novalidate onSubmit=${(e) => { e.preventDefault(); submit(); }} data-testid="stock-adjust-form">
    ${failure ? html`<${ErrorAlert} error=${failure} shown=${['delta', 'reason']} />` : null}
    <${Field} label="增减数量" required error=${errors.delta} hint="正数增加，负数减少，如 20 或 -3">
      <input class="el-input" name="delta" aria-label="增减数量" inputmode="numeric" value=${delta} onInput=${(e) => setDelta(e.target.value)} />
    <//>
    <${Field} label="原因" required error=${errors.reason}>
      <input class="el-input" name="reason" aria-label="增减原因" maxlength="200" placeholder="如 到货、盘亏、退货入库" value=${reason} onInput=${(e) => setReason(e.target.value)} />
    <//>
    <${Field} label="">
      <${Button} kind="primary" type="submit" busy=${busy}>确认增减<//>
    <//>
  </form>`;
}
