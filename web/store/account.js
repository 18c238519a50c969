// Logging in (#/login?next=…), registering (#/register?next=…) and the buyer's own page
// (#/me). After logging in or registering the buyer goes back to where they were.
import { html, useState } from '/ui/vendor/preact-htm.js';
import { fieldErrors } from '/ui/shared/api.js';
import { isMobile } from '/ui/shared/format.js';
import { passwordProblem } from '/ui/shared/password.js';
import { localTarget, withQuery } from '/ui/shared/url.js';
import { api, ErrorText, FieldError, navigate, TopBar, useSession } from './lib.js';

// accountProblem checks what was typed as an account: an 11-digit mobile number or a username
// of 3 to 32 characters that is not only digits (what the API takes).
function accountProblem(account) {
  if (!account) return '请填写用户名或手机号';
  if (/^\d+$/.test(account)) return isMobile(account) ? '' : '请填写正确的 11 位手机号';
  const n = [...account].length;
  if (n < 3 || n > 32) return '用户名需 3–32 个字符';
  return '';
}

function AuthForm({ title, submitLabel, busyLabel, onSubmit, fields, values, setValues, problems, error, busy, children }) {
  return html`<form class="form auth-form" onSubmit=${onSubmit} novalidate>
    <h2 class="auth-title">${title}</h2>
    ${fields.map(
      ([name, label, type, autocomplete]) => html`<label key=${name} class="field">
        <span class="label">${label}</span>
        <input name=${name} type=${type} autocomplete=${autocomplete} value=${values[name]}
          aria-invalid=${problems[name] ? 'true' : undefined}
          onInput=${(e) => setValues({ ...values, [name]: e.currentTarget.value })} />
        <${FieldError} text=${problems[name]} />
      </label>`,
    )}
    <${ErrorText} error=${error} />
    <button type="submit" class="btn btn-primary btn-wide" disabled=${busy}>${busy ? busyLabel : submitLabel}</button>
    ${children}
  </form>`;
}

export function LoginPage({ query }) {
  const next = localTarget(query.get('next'));
  const [values, setValues] = useState({ account: '', password: '' });
  const [problems, setProblems] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e) => {
    e.preventDefault();
    if (busy) return;
    const account = values.account.trim();
    const found = {};
    if (!account) found.account = '请填写用户名或手机号';
    if (!values.password) found.password = '请填写密码';
    setProblems(found);
    setError(null);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      await api.login(account, values.password);
      navigate(next, { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return html`<div class="page auth-page">
    <${TopBar} title="登录" />
    ${query.get('expired') && html`<p class="notice" role="status">登录已过期，请重新登录</p>`}
    <${AuthForm} title="欢迎回来" submitLabel="登录" busyLabel="登录中…" onSubmit=${submit} values=${values} setValues=${setValues}
      problems=${problems} error=${error} busy=${busy}
      fields=${[
        ['account', '用户名或手机号', 'text', 'username'],
        ['password', '密码', 'password', 'current-password'],
      ]}>
      <p class="center">还没有账号？<a href=${`#${withQuery('/register', { next: next === '/' ? '' : next })}`}>注册</a></p>
    <//>
  </div>`;
}

export function RegisterPage({ query }) {
  const next = localTarget(query.get('next'));
  const [values, setValues] = useState({ account: '', password: '', confirm: '' });
  const [problems, setProblems] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e) => {
    e.preventDefault();
    if (busy) return;
    const account = values.account.trim();
    const byMobile = /^\d+$/.test(account);
    const found = {};
    const accountError = accountProblem(account);
    if (accountError) found.account = accountError;
    const passwordError = passwordProblem(values.password, byMobile ? '' : account);
    if (passwordError) found.password = passwordError;
    else if (values.confirm !== values.password) found.confirm = '两次输入的密码不一致';
    setProblems(found);
    setError(null);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      await api.register(byMobile ? { mobile: account, password: values.password } : { username: account, password: values.password });
      navigate(next, { replace: true });
    } catch (err) {
      // The API names the account field username or mobile; the form has one box for both.
      const fields = fieldErrors(err);
      setProblems({ account: fields.username || fields.mobile, password: fields.password });
      setError(err);
      setBusy(false);
    }
  };

  return html`<div class="page auth-page">
    <${TopBar} title="注册" />
    <${AuthForm} title="注册新账号" submitLabel="注册" busyLabel="注册中…" onSubmit=${submit} values=${values} setValues=${setValues}
      problems=${problems} error=${error} busy=${busy}
      fields=${[
        ['account', '用户名或手机号', 'text', 'username'],
        ['password', '密码（至少 8 位，含字母和数字）', 'password', 'new-password'],
        ['confirm', '确认密码', 'password', 'new-password'],
      ]}>
      <p class="center">已有账号？<a href=${`#${withQuery('/login', { next: next === '/' ? '' : next })}`}>登录</a></p>
    <//>
  </div>`;
}

export function MePage() {
  const { user, ready } = useSession();
  const [error, setError] = useState(null);
  const logout = async () => {
    setError(null);
    try {
      await api.logout();
      navigate('/', { replace: true });
    } catch (err) {
      setError(err);
    }
  };
  if (!user) {
    return html`<div class="page me-page">
      <header class="me-header"><span class="avatar" aria-hidden="true"></span><p>${ready ? '未登录' : '…'}</p></header>
      <div class="pad row-actions">
        <a class="btn btn-primary" href="#/login?next=%2Fme">登录</a>
        <a class="btn" href="#/register?next=%2Fme">注册</a>
      </div>
    </div>`;
  }
  const name = user.nickname || user.username || user.mobile || '买家';
  return html`<div class="page me-page">
    <header class="me-header"><span class="avatar" aria-hidden="true"></span><p data-testid="me-name">${name}</p></header>
    <nav class="card menu" aria-label="我的订单">
      <a href="#/orders">全部订单</a>
      <a href="#/orders?status=pending_payment">待付款</a>
      <a href="#/orders?status=paid">已支付</a>
      <a href="#/orders?status=shipped">已发货</a>
    </nav>
    <nav class="card menu list" aria-label="我的">
      <a href="#/addresses">收货地址</a>
      <a href="#/cart">购物车</a>
    </nav>
    <${ErrorText} error=${error} />
    <div class="pad"><button type="button" class="btn btn-wide" onClick=${logout}>退出登录</button></div>
  </div>`;
}
