// The merchant console: login, the sidebar layout and the hash routes. Each screen is its own
// module, loaded with import() the first time it is opened, so the first load stays small.
import { html, render, useState, useEffect } from '/ui/vendor/preact-htm.js';
import { errorMessage } from '/ui/shared/api.js';
import { localTarget } from '/ui/shared/url.js';
import { api, isAdmin, takeLoginNotice } from './session.js';
import { useRoute, navigate, matchPath, href } from './router.js';
import { Button, Field, Alert, Loading, Toasts, ConfirmHost, useAction, toast } from './ui.js';

// Routes in menu order. adminOnly screens are left out of an operator's menu (the API refuses
// them anyway); menu names the sidebar entry a route lights up.
const routes = [
  { pattern: '/', menu: '/', title: '概览', load: () => import('./screens/dashboard.js') },
  { pattern: '/products', menu: '/products', title: '商品列表', load: () => import('./screens/products.js') },
  { pattern: '/products/new', menu: '/products', title: '新增商品', load: () => import('./screens/product-edit.js') },
  { pattern: '/products/:id', menu: '/products', title: '编辑商品', load: () => import('./screens/product-edit.js') },
  { pattern: '/categories', menu: '/categories', title: '商品分类', load: () => import('./screens/categories.js') },
  { pattern: '/stock', menu: '/stock', title: '库存管理', load: () => import('./screens/stock.js') },
  { pattern: '/stock/:skuId', menu: '/stock', title: 'SKU 库存', load: () => import('./screens/stock-sku.js') },
  { pattern: '/flash-sales', menu: '/flash-sales', title: '秒杀活动', load: () => import('./screens/flash-sales.js') },
  { pattern: '/orders', menu: '/orders', title: '订单列表', load: () => import('./screens/orders.js') },
  { pattern: '/orders/:id', menu: '/orders', title: '订单详情', load: () => import('./screens/order-detail.js') },
  { pattern: '/payments', menu: '/payments', title: '支付与对账', adminOnly: true, load: () => import('./screens/payments.js') },
  { pattern: '/users', menu: '/users', title: '买家', adminOnly: true, load: () => import('./screens/users.js') },
  { pattern: '/users/:id', menu: '/users', title: '买家详情', adminOnly: true, load: () => import('./screens/user-detail.js') },
  { pattern: '/staff', menu: '/staff', title: '员工', adminOnly: true, load: () => import('./screens/staff.js') },
  { pattern: '/audit-log', menu: '/audit-log', title: '审计日志', adminOnly: true, load: () => import('./screens/audit-log.js') },
  { pattern: '/dead-letters', menu: '/dead-letters', title: '死信事件', adminOnly: true, load: () => import('./screens/dead-letters.js') },
];

const menu = [
  { label: '概览', items: [{ path: '/', label: '概览', icon: '◱' }] },
  {
    label: '商品',
    items: [
      { path: '/products', label: '商品列表', icon: '▦' },
      { path: '/categories', label: '商品分类', icon: '☰' },
      { path: '/stock', label: '库存管理', icon: '▤' },
      { path: '/flash-sales', label: '秒杀活动', icon: '⚡' },
    ],
  },
  {
    label: '交易',
    items: [
      { path: '/orders', label: '订单列表', icon: '▣' },
      { path: '/payments', label: '支付与对账', icon: '¥' },
    ],
  },
  {
    label: '用户',
    items: [
      { path: '/users', label: '买家', icon: '☺' },
      { path: '/staff', label: '员工', icon: '♟' },
    ],
  },
  {
    label: '系统',
    items: [
      { path: '/audit-log', label: '审计日志', icon: '✎' },
      { path: '/dead-letters', label: '死信事件', icon: '⚠' },
    ],
  },
];

const adminOnlyPaths = new Set(routes.filter((r) => r.adminOnly).map((r) => r.pattern));

function findRoute(path) {
  for (const r of routes) {
    const params = matchPath(r.pattern, path);
    if (params) return { ...r, params };
  }
  return null;
}

const loaded = new Map();

// Screen loads a route's module once and renders its default export. App keys it by the
// path, so another record (/products/1 → /products/2) is a fresh screen with fresh state.
function Screen({ route, match, staff }) {
  const [mod, setMod] = useState(() => loaded.get(match.pattern) || null);
  const [failed, setFailed] = useState(null);
  useEffect(() => {
    if (mod) return undefined;
    let live = true;
    match.load().then(
      (m) => {
        loaded.set(match.pattern, m);
        if (live) setMod(m);
      },
      (err) => live && setFailed(err),
    );
    return () => {
      live = false;
    };
  }, []);
  useEffect(() => {
    document.title = `${match.title} - Minimart 商家后台`;
  }, [match.title]);
  if (failed) return html`<${Alert}>页面加载失败，请刷新重试（${failed.message}）<//>`;
  if (!mod) return html`<${Loading} />`;
  const View = mod.default;
  return html`<${View} params=${match.params} query=${route.query} route=${route} staff=${staff} />`;
}

function Login({ route }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState({});
  const [failure, setFailure] = useState(null);
  const [notice, setNotice] = useState(takeLoginNotice);
  useEffect(() => {
    document.title = '登录 - Minimart 商家后台';
  }, []);
  const [submit, busy] = useAction(async () => {
    const found = {};
    if (!username.trim()) found.username = '请输入用户名';
    if (!password) found.password = '请输入密码';
    setErrors(found);
    setFailure(null);
    if (Object.keys(found).length) return;
    setNotice('');
    try {
      // The session change re-renders App, which leads on to route.query.next.
      await api.login(username.trim(), password);
    } catch (err) {
      setFailure(err);
    }
  });
  return html`<div class="login-page">
    <form class="login-box" onSubmit=${(e) => { e.preventDefault(); submit(); }} novalidate>
      <div class="login-brand"><span class="brand-mark">M</span>Minimart 商家后台</div>
      ${notice ? html`<${Alert} kind="warning">${notice}<//>` : null}
      ${failure ? html`<${Alert}>${errorMessage(failure)}<//>` : null}
      <${Field} label="用户名" error=${errors.username}>
        <input class="el-input" id="login-username" name="username" autocomplete="username" value=${username} onInput=${(e) => setUsername(e.target.value)} autofocus />
      <//>
      <${Field} label="密码" error=${errors.password}>
        <input class="el-input" id="login-password" name="password" type="password" autocomplete="current-password" value=${password} onInput=${(e) => setPassword(e.target.value)} />
      <//>
      <${Button} kind="primary" type="submit" busy=${busy} class="login-submit">登 录<//>
    </form>
  </div>`;
}

function Sidebar({ active, staff }) {
  return html`<aside class="sidebar"><div class="sidebar__inner">
    <a class="sidebar__brand" href="#/"><span class="brand-mark">M</span>Minimart 后台</a>
    <nav class="sidebar__menu" aria-label="主菜单">
      ${menu.map((group) => {
        const items = group.items.filter((i) => isAdmin(staff) || !adminOnlyPaths.has(i.path));
        if (!items.length) return null;
        return html`<div class="menu-group" key=${group.label}>
          <div class="menu-group__title">${group.label}</div>
          ${items.map(
            (i) => html`<a key=${i.path} href=${href(i.path)} class=${`menu-item${active === i.path ? ' is-active' : ''}`} aria-current=${active === i.path ? 'page' : null}>
              <span class="menu-item__icon" aria-hidden="true">${i.icon}</span>${i.label}
            </a>`,
          )}
        </div>`;
      })}
    </nav>
  </div></aside>`;
}

function Topbar({ title, staff }) {
  // If the server cannot be told, the session stays (api.logout) and the error is shown.
  const [logout, busy] = useAction(async () => {
    try {
      await api.logout();
    } catch (err) {
      toast('error', errorMessage(err));
    }
  });
  return html`<header class="topbar">
    <div class="topbar__crumbs"><a href="#/">首页</a><span class="sep">/</span><span>${title}</span></div>
    <div class="topbar__user">
      <span class="topbar__name">${staff.username}</span>
      <span class=${`el-tag el-tag--${staff.role === 'admin' ? 'danger' : 'primary'}`}>${staff.role === 'admin' ? '管理员' : '运营'}</span>
      <${Button} kind="text" busy=${busy} onClick=${logout}>退出登录<//>
    </div>
  </header>`;
}

function Forbidden() {
  return html`<div class="el-result">
    <div class="el-result__icon">403</div>
    <h2>无权访问</h2>
    <p>此页面仅管理员可用。</p>
    <a class="el-btn el-btn--primary" href="#/">返回概览</a>
  </div>`;
}

function NotFound() {
  return html`<div class="el-result">
    <div class="el-result__icon">404</div>
    <h2>页面不存在</h2>
    <a class="el-btn el-btn--primary" href="#/">返回概览</a>
  </div>`;
}

function App() {
  const route = useRoute();
  const [staff, setStaff] = useState(api.principal());
  const [booting, setBooting] = useState(true);
  const [bootError, setBootError] = useState(null);

  useEffect(() => {
    const stop = api.onChange(setStaff);
    api
      .restore()
      .then(setStaff, setBootError)
      .finally(() => setBooting(false));
    return stop;
  }, []);

  // Without a session every screen but the login sends there, remembering where it was.
  useEffect(() => {
    if (booting) return;
    if (!staff && route.path !== '/login') navigate('/login', { next: route.full }, { replace: true });
    if (staff && route.path === '/login') location.replace(`#${localTarget(route.query.next)}`);
  }, [booting, staff, route.path]);

  if (booting) return html`<div class="boot"><${Loading} text="正在恢复登录…" /></div>`;
  if (bootError) {
    return html`<div class="boot"><${Alert}>${errorMessage(bootError)}<//><${Button} kind="primary" onClick=${() => location.reload()}>重试<//></div>`;
  }
  if (!staff) return html`${route.path === '/login' ? html`<${Login} route=${route} />` : null}<${Toasts} />`;

  const match = findRoute(route.path);
  let content;
  if (!match) content = html`<${NotFound} />`;
  else if (match.adminOnly && !isAdmin(staff)) content = html`<${Forbidden} />`;
  else content = html`<${Screen} key=${route.path} route=${route} match=${match} staff=${staff} />`;

  return html`<div class="layout">
    <${Sidebar} active=${match ? match.menu : ''} staff=${staff} />
    <div class="layout__main">
      <${Topbar} title=${match ? match.title : '页面不存在'} staff=${staff} />
      <main class="layout__content">${content}</main>
    </div>
    <${Toasts} />
    <${ConfirmHost} />
  </div>`;
}

render(html`<${App} />`, document.getElementById('app'));
