// Delivery addresses (#/addresses, #/addresses/new, #/addresses/<id>): list, add, edit,
// delete, make default. AddressForm is also the checkout's "新增地址".
import { html, useState } from '/ui/vendor/preact-htm.js';
import { fieldErrors } from '/ui/shared/api.js';
import { addressLine, isPhone } from '/ui/shared/format.js';
import { localTarget } from '/ui/shared/url.js';
import { useLoad } from '/ui/shared/ui.js';
import { api, ConfirmButton, Empty, ErrorText, FieldError, Loading, navigate, TopBar } from './lib.js';

const fields = [
  ['recipient', '收货人', 32, 'name'],
  ['phone', '手机号码', 20, 'tel'],
  ['province', '省份', 32, 'address-level1'],
  ['city', '城市', 32, 'address-level2'],
  ['district', '区县', 32, 'address-level3'],
  ['detail', '详细地址', 200, 'street-address'],
];

// check gives the form's own verdict per field, in the API's terms (AddressInput).
function check(values) {
  const problems = {};
  for (const [name, label, max] of fields) {
    const v = values[name].trim();
    if (!v) problems[name] = `请填写${label}`;
    else if ([...v].length > max) problems[name] = `${label}最多 ${max} 个字`;
  }
  if (!problems.phone && !isPhone(values.phone)) problems.phone = '请填写正确的电话号码（6–20 位数字）';
  return problems;
}

// AddressForm adds an address (initial absent) or replaces one; onSaved gets the stored address.
export function AddressForm({ initial, onSaved, onCancel, makeDefault = false }) {
  const [values, setValues] = useState(() => {
    const v = {};
    for (const [name] of fields) v[name] = initial ? initial[name] : '';
    v.is_default = initial ? initial.is_default : makeDefault;
    return v;
  });
  const [problems, setProblems] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e) => {
    e.preventDefault();
    if (busy) return;
    const found = check(values);
    setProblems(found);
    setError(null);
    if (Object.keys(found).length) return;
    const body = { is_default: values.is_default };
    for (const [name] of fields) body[name] = values[name].trim();
    setBusy(true);
    try {
      const saved = initial ? await api.put(`/api/v1/me/addresses/${initial.id}`, body) : await api.post('/api/v1/me/addresses', body);
      onSaved(saved);
    } catch (err) {
      setProblems(fieldErrors(err));
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  // The default address stays the default until another one takes its place (the API refuses
  // to unset it), so its box cannot be cleared here.
  const lockedDefault = initial && initial.is_default;
  return html`<form class="form address-form" onSubmit=${submit} novalidate>
    ${fields.map(
      ([name, label, max, autocomplete]) => html`<label key=${name} class="field">
        <span class="label">${label}</span>
        <input name=${name} value=${values[name]} maxlength=${max} autocomplete=${autocomplete}
          inputmode=${name === 'phone' ? 'tel' : undefined} aria-invalid=${problems[name] ? 'true' : undefined}
          onInput=${(e) => setValues({ ...values, [name]: e.currentTarget.value })} />
        <${FieldError} text=${problems[name]} />
      </label>`,
    )}
    <label class="field inline">
      <input type="checkbox" name="is_default" checked=${values.is_default} disabled=${lockedDefault}
        onChange=${(e) => setValues({ ...values, is_default: e.currentTarget.checked })} />
      <span>设为默认地址</span>
      <${FieldError} text=${problems.is_default} />
    </label>
    <${ErrorText} error=${error} />
    <div class="form-actions">
      ${onCancel && html`<button type="button" class="btn" onClick=${onCancel}>取消</button>`}
      <button type="submit" class="btn btn-primary" disabled=${busy}>${busy ? '保存中…' : '保存地址'}</button>
    </div>
  </form>`;
}

export function AddressesPage() {
  const list = useLoad(() => api.get('/api/v1/me/addresses'), []);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const act = async (send) => {
    setBusy(true);
    setError(null);
    try {
      await send();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      list.reload();
    }
  };
  const makeDefault = (a) =>
    act(() =>
      api.put(`/api/v1/me/addresses/${a.id}`, {
        recipient: a.recipient, phone: a.phone, province: a.province, city: a.city, district: a.district, detail: a.detail, is_default: true,
      }),
    );

  let body;
  if (list.error) body = html`<${ErrorText} error=${list.error} />`;
  else if (!list.data) body = html`<${Loading} />`;
  else if (!list.data.items.length) body = html`<${Empty} text="还没有收货地址" />`;
  else {
    body = html`<ul class="address-list">
      ${list.data.items.map(
        (a) => html`<li key=${a.id} class="card address">
          <p><strong>${a.recipient}</strong> <span class="muted">${a.phone}</span> ${a.is_default && html`<span class="badge badge-primary">默认</span>`}</p>
          <p>${addressLine(a)}</p>
          <div class="row-actions">
            ${!a.is_default && html`<button type="button" class="link-button" disabled=${busy} onClick=${() => makeDefault(a)}>设为默认</button>`}
            <a class="link-button" href=${`#/addresses/${a.id}`}>编辑</a>
            <${ConfirmButton} class="link-button" label="删除" question="删除这个地址？" confirmLabel="删除" busy=${busy}
              onConfirm=${() => act(() => api.del(`/api/v1/me/addresses/${a.id}`))} />
          </div>
        </li>`,
      )}
    </ul>`;
  }
  return html`<div class="page addresses-page">
    <${TopBar} title="收货地址" back="/me" />
    <${ErrorText} error=${error} />
    ${body}
    <div class="pad"><a class="btn btn-primary btn-wide" href="#/addresses/new">新增收货地址</a></div>
  </div>`;
}

export function AddressEditPage({ params, query }) {
  const id = params[0];
  const next = localTarget(query.get('next'), '/addresses');
  const existing = useLoad(() => (id === 'new' ? Promise.resolve(null) : api.get(`/api/v1/me/addresses/${id}`)), [id]);
  const title = id === 'new' ? '新增收货地址' : '编辑收货地址';
  let body;
  if (existing.error) body = html`<${ErrorText} error=${existing.error} />`;
  else if (existing.loading) body = html`<${Loading} />`;
  else {
    body = html`<${AddressForm} key=${id} initial=${existing.data} onSaved=${() => navigate(next, { replace: true })}
      onCancel=${() => navigate(next, { replace: true })} />`;
  }
  return html`<div class="page"><${TopBar} title=${title} back="/addresses" />${body}</div>`;
}
