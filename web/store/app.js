// The H5 storefront: routes by the URL hash (#/product/123), so the server serves one page.
// The home page comes with this file; every other page is a module loaded when first opened,
// which keeps the first download small.
import { html, render, useEffect, useState } from '/ui/vendor/preact-htm.js';
import { HomePage, prefetchHome } from './home.js';
import { ErrorText, Loading, loginRoute, navigate, parseHash, retryRestore, Toast, useSession } from './lib.js';

// Each route: a path pattern, the page's module and export, whether it needs a logged-in
// buyer, and which tab of the bottom bar it belongs to.
const routes = [
  { pattern: /^\/$/, page: HomePage, tab: 'home' },
  { pattern: /^\/category(?:\/(\d+))?$/, load: () => import('./browse.js'), name: 'CategoryPage', tab: 'category' },
  { pattern: /^\/search$/, load: () => import('./browse.js'), name: 'SearchPage' },
  { pattern: /^\/product\/(\d+)$/, load: () => import('./product.js'), name: 'ProductPage' },
  { pattern: /^\/cart$/, load: () => import('./cart.js'), name: 'CartPage', auth: true, tab: 'cart' },
  { pattern: /^\/checkout$/, load: () => import('./checkout.js'), name: 'CheckoutPage', auth: true },
  { pattern: /^\/pay\/(\d+)$/, load: () => import('./pay.js'), name: 'PayPage', auth: true },
  { pattern: /^\/pay-result$/, load: () => import('./pay.js'), name: 'PayResultPage', auth: true },
  { pattern: /^\/orders$/, load: () => import('./orders.js'), name: 'OrdersPage', auth: true, tab: 'me' },
  { pattern: /^\/orders\/(\d+)$/, load: () => import('./orders.js'), name: 'OrderPage', auth: true },
  { pattern: /^\/addresses$/, load: () => import('./addresses.js'), name: 'AddressesPage', auth: true },
  { pattern: /^\/addresses\/(new|\d+)$/, load: () => import('./addresses.js'), name: 'AddressEditPage', auth: true },
  { pattern: /^\/login$/, load: () => import('./account.js'), name: 'LoginPage' },
  { pattern: /^\/register$/, load: () => import('./account.js'), name: 'RegisterPage' },
  { pattern: /^\/me$/, load: () => import('./account.js'), name: 'MePage', tab: 'me' },
];

function match(path) {
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (m) return { route, params: m.slice(1) };
  }
  return null;
}

// Loaded page modules, by their loader.
const loaded = new Map();

function LazyPage({ route, props }) {
  const [mod, setMod] = useState(() => loaded.get(route.load));
  const [error, setError] = useState(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (loaded.has(route.load)) return setMod(loaded.get(route.load));
    setMod(undefined);
    let live = true;
    route.load().then(
      (m) => {
        loaded.set(route.load, m);
        if (live) setMod(m);
      },
      (err) => live && setError(err),
    );
    return () => {
      live = false;
    };
  }, [route, attempt]);
  if (error) {
    return html`<div class="page"><${ErrorText} error=${error} />
      <button type="button" class="btn" onClick=${() => (setError(null), setAttempt(attempt + 1))}>重新加载</button></div>`;
  }
  if (!mod) return html`<${Loading} />`;
  const Page = mod[route.name];
  return html`<${Page} ...${props} />`;
}

function TabBar({ active }) {
  const tabs = [
    ['home', '#/', '首页'],
    ['category', '#/category', '分类'],
    ['cart', '#/cart', '购物车'],
    ['me', '#/me', '我的'],
  ];
  return html`<nav class="tabbar" aria-label="主导航">
    ${tabs.map(
      ([key, href, label]) => html`<a key=${key} href=${href} class=${`tab tab-${key} ${key === active ? 'active' : ''}`}
        aria-current=${key === active ? 'page' : undefined}><span class="tab-icon" aria-hidden="true"></span>${label}</a>`,
    )}
  </nav>`;
}

function NotFound() {
  return html`<div class="page"><div class="empty"><p>页面不存在</p><a class="btn" href="#/">回到首页</a></div></div>`;
}

// SessionUnknown stands in for a page that needs the buyer while the server could not say
// whether they are logged in (no network, busy, failing): sending them to log in again would
// be wrong when they are.
function SessionUnknown({ error }) {
  return html`<div class="page"><div class="empty">
    <p>暂时无法确认登录状态</p>
    <${ErrorText} error=${error} />
    <button type="button" class="btn btn-primary" onClick=${retryRestore}>重试</button>
    <a class="btn" href=${`#${loginRoute(parseHash().full)}`}>重新登录</a>
  </div></div>`;
}

function App() {
  const [location, setLocation] = useState(parseHash());
  const { user, ready, restoreError } = useSession();
  useEffect(() => {
    const onHash = () => {
      const next = parseHash();
      setLocation((prev) => {
        if (prev.path !== next.path) window.scrollTo(0, 0);
        return next;
      });
    };
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  const found = match(location.path);
  const needsLogin = found && found.route.auth && !user;
  useEffect(() => {
    if (needsLogin && ready && !restoreError) navigate(loginRoute(location.full), { replace: true });
  }, [needsLogin, ready, restoreError, location.full]);

  let body;
  if (!found) body = html`<${NotFound} />`;
  else if (needsLogin && restoreError) body = html`<${SessionUnknown} error=${restoreError} />`;
  else if (needsLogin) body = html`<${Loading} />`;
  else {
    const props = { params: found.params, query: location.query, user, location };
    const Page = found.route.page;
    body = Page ? html`<${Page} ...${props} />` : html`<${LazyPage} key=${found.route.name} route=${found.route} props=${props} />`;
  }
  const tab = found && found.route.tab;
  return html`<div class=${`shell ${tab ? 'with-tabbar' : ''}`}>
    <main>${body}</main>
    ${tab && html`<${TabBar} active=${tab} />`}
    <${Toast} />
  </div>`;
}

const opening = parseHash();
if (opening.path === '/') prefetchHome(opening.query);

// The page's "loading" note goes when the app takes over the element.
const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
