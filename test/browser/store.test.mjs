// The H5 storefront (/) in chromium against the real binary: the first page's weight and
// speed; a buyer who registers, searches 手机, picks a SKU, fills the cart, adds an address,
// checks out (a double click makes one order), pays in the sandbox cashier's real page and
// sees the order paid; cancelling and confirming receipt; a sold-out SKU that cannot be
// chosen; stock gone at checkout (409) and repeated wrong passwords (429) shown in words;
// merchant HTML rendered from an allow-list. Every main screen is saved as a screenshot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { formatYuan, specText } from '../../web/shared/format.js';
import { messageFor } from '../../web/shared/errors.js';
import { api, baseURL, launchBrowser, measureLoad, newPage, screenshot, staffToken, step } from './harness.mjs';

const FIRST_PAGE_BUDGET_BYTES = 300 * 1024;
const FIRST_PAGE_BUDGET_MS = 1000;
const PASSWORD = 'Buyer-pass-1';
const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
let buyers = 0;

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

// ---- test data through the API ----

function newBuyerName() {
  buyers += 1;
  return `sf${run}b${buyers}`;
}

async function buyerToken(username) {
  const data = await api('POST', '/api/v1/auth/login', { body: { username, password: PASSWORD } });
  return data.tokens.access_token;
}

// waitFor polls a condition the server reaches on its own time (a cached product's stock).
async function waitFor(what, check, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// phoneWithSpecs finds, through the buyer API, a product the search for 手机 finds, not used by
// earlier tests, that declares two specs (颜色 and 容量, say) with at least two values of the
// first, and has every SKU in stock.
async function phoneWithSpecs(skip = new Set()) {
  const found = await api('GET', `/api/v1/search?q=${encodeURIComponent('手机')}&page_size=50`);
  for (const item of found.items) {
    if (skip.has(item.id)) continue;
    const p = await api('GET', `/api/v1/products/${item.id}`);
    if (p.specs.length === 2 && p.specs[0].values.length >= 2 && p.skus.every((s) => s.stock >= 5)) return p;
  }
  throw new Error('the search for 手机 found no product with two specs and stock');
}

// waitForValue waits until the input field shows value (the page re-renders after a click).
async function waitForValue(page, field, value) {
  await page.waitForFunction(({ el, want }) => el.value === want, { el: await field.elementHandle(), want: value });
}

// exactText matches an element whose whole text is text.
function exactText(text) {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}

async function setStock(token, skuId, stock) {
  await api('PUT', `/api/v1/admin/skus/${skuId}/stock`, { token, body: { stock, reason: 'storefront browser test' } });
}

// ---- page steps ----

async function registerInPage(page, username) {
  await page.getByRole('link', { name: '注册' }).click();
  await page.getByLabel('用户名或手机号').fill(username);
  await page.getByLabel('密码（至少 8 位，含字母和数字）').fill(PASSWORD);
  await page.getByLabel('确认密码').fill(PASSWORD);
  await page.getByRole('button', { name: '注册', exact: true }).click();
}

// pickSku presses the value buttons of a SKU's specs that are not pressed yet (the page picks
// the only SKU of a product by itself), in the page's order.
async function pickSku(page, product, sku) {
  for (const spec of product.specs) {
    const button = page.getByRole('group', { name: spec.name }).getByRole('button', { name: sku.specs[spec.name], exact: true });
    if ((await button.getAttribute('aria-pressed')) !== 'true') await button.click();
  }
}

const usedProducts = new Set();

test('the first page is light and shows products within a second', async (t) => {
  // Three cold loads, each in a fresh browser context with the cache off. The time is measured
  // in the page, from the start of its navigation (the origin of the browser's own load
  // figures) to the first frame that shows a product card, so the starting of chromium's
  // processes does not count; the fastest of the three counts, since the page's own cost is
  // the same in each and other processes on this shared machine can only add to it. measureLoad's wall-clock time is logged.
  const loads = [];
  let page;
  for (let i = 0; i < 3; i++) {
    page = await newPage(browser, t, { mobile: true });
    await page.addInitScript(() => {
      new MutationObserver((_, observer) => {
        if (!document.querySelector('.product-card')) return;
        observer.disconnect();
        requestAnimationFrame(() => {
          window.storefrontListShownAt = performance.now();
        });
      }).observe(document, { childList: true, subtree: true });
    });
    const load = await measureLoad(page, '/', '.product-card');
    load.shownAt = Math.round(await page.evaluate(() => window.storefrontListShownAt));
    loads.push(load);
  }
  const total = Math.max(...loads.map((l) => l.bytes + l.imageBytes));
  const ms = Math.min(...loads.map((l) => l.shownAt));
  console.log(`FIGURE storefront_first_page_bytes=${total} ms=${ms}`);
  console.log(`first page loads: product list shown at ${loads.map((l) => l.shownAt).join(', ')} ms after navigation start; ` +
    `${loads.map((l) => l.ms).join(', ')} ms wall clock from page.goto`);
  assert.ok(total <= FIRST_PAGE_BUDGET_BYTES, `first page transferred ${total} bytes, budget ${FIRST_PAGE_BUDGET_BYTES}`);
  assert.ok(ms <= FIRST_PAGE_BUDGET_MS, `product list shown ${ms} ms after navigation start (fastest of three), budget ${FIRST_PAGE_BUDGET_MS}`);
  assert.ok((await page.locator('.category-entry').count()) >= 1, 'the home page lists the top-level categories');
  await screenshot(page, 'store-home');

  await step(page, 'category', async () => {
    await page.locator('.category-entry').first().click();
    await page.waitForURL(/#\/category\/\d+$/);
    await page.locator('.chips .chip').first().click();
    await page.locator('.breadcrumb a').nth(1).waitFor();
    await page.locator('.product-card').first().waitFor();
    await screenshot(page, 'store-category');
  });
});

test('a buyer finds a phone, buys it, pays in the sandbox cashier and sees it paid', async (t) => {
  const page = await newPage(browser, t, { mobile: true });
  const username = newBuyerName();

  await step(page, 'login-redirect', async () => {
    // The cart needs a buyer: the page asks to log in, and comes back after registering.
    await page.goto('/#/cart');
    await page.waitForURL(/#\/login\?next=%2Fcart$/);
    await screenshot(page, 'store-login');
    await registerInPage(page, username);
    await page.waitForURL(/#\/cart$/);
    await page.getByText('购物车是空的').waitFor();
  });

  let product;
  let sku;
  await step(page, 'search', async () => {
    await page.goto('/#/');
    await page.getByLabel('搜索商品').fill('手机');
    await page.getByRole('button', { name: '搜索' }).click();
    await page.waitForURL(/#\/search\?q=/);
    const phones = page.locator('.search-page .product-card', { hasText: '手机' });
    await phones.first().waitFor();
    await screenshot(page, 'store-search');
    // The first phone found with a few pieces of one SKU in stock (the demo sells some out).
    for (const href of await phones.evaluateAll((cards) => cards.map((a) => a.getAttribute('href')))) {
      const candidate = await api('GET', `/api/v1/products/${href.split('/').pop()}`);
      sku = candidate.skus.find((s) => s.stock >= 3);
      if (sku) {
        product = candidate;
        break;
      }
    }
    assert.ok(product, 'the search for 手机 found a phone in stock');
    usedProducts.add(product.id);
    await page.locator(`.product-card[href="#/product/${product.id}"]`).click();
    await page.waitForURL(/#\/product\/\d+$/);
  });

  await step(page, 'product', async () => {
    await page.getByRole('heading', { name: product.title }).waitFor();
    await pickSku(page, product, sku);
    await page.getByTestId('sku-stock').getByText(`库存 ${sku.stock} 件`).waitFor();
    await page.getByTestId('product-price').filter({ hasText: exactText(formatYuan(sku.price)) }).waitFor();
    await page.getByRole('button', { name: '增加' }).click();
    await waitForValue(page, page.getByRole('textbox', { name: '数量' }), '2');
    await screenshot(page, 'store-product');
    await page.getByRole('button', { name: '加入购物车' }).click();
    await page.getByRole('status').getByText('已加入购物车').waitFor();
  });

  await step(page, 'cart', async () => {
    await page.getByRole('link', { name: '购物车' }).click();
    await page.waitForURL(/#\/cart$/);
    const total = page.getByTestId('cart-total');
    await total.getByText(formatYuan(sku.price * 2)).waitFor();
    await page.locator('.cart-line').getByRole('button', { name: '增加' }).click();
    await total.getByText(formatYuan(sku.price * 3)).waitFor();
    // Deselecting the line takes it out of the total (POST /api/v1/cart/selection), and back.
    const check = page.getByRole('checkbox', { name: `选择 ${product.title}` });
    await check.uncheck();
    await total.getByText(formatYuan(0)).waitFor();
    await check.check();
    await total.getByText(formatYuan(sku.price * 3)).waitFor();
    // A typed quantity is sent once, when the buyer is done with the field: one PUT for "4".
    const puts = [];
    const countPuts = (req) => req.method() === 'PUT' && new URL(req.url()).pathname.startsWith('/api/v1/cart/items/') && puts.push(req.postData());
    page.on('request', countPuts);
    const quantity = page.getByRole('textbox', { name: `${product.title} 数量` });
    await quantity.fill('4');
    await quantity.press('Enter');
    await total.getByText(formatYuan(sku.price * 4)).waitFor();
    page.off('request', countPuts);
    assert.deepEqual(puts, [JSON.stringify({ quantity: 4 })], 'one PUT with the typed quantity');
    await page.locator('.cart-line').getByRole('button', { name: '减少' }).click();
    await total.getByText(formatYuan(sku.price * 3)).waitFor();
    await screenshot(page, 'store-cart');
    await page.getByRole('button', { name: /去结算/ }).click();
    await page.waitForURL(/#\/checkout$/);
  });

  await step(page, 'address', async () => {
    // No address yet: the checkout asks for one, and checks it before sending it.
    await page.getByRole('button', { name: '保存地址' }).click();
    await page.getByText('请填写收货人').waitFor();
    await page.getByLabel('收货人').fill('张三');
    await page.getByLabel('手机号码').fill('12');
    await page.getByLabel('省份').fill('广东省');
    await page.getByLabel('城市').fill('深圳市');
    await page.getByLabel('区县').fill('南山区');
    await page.getByLabel('详细地址').fill('科技园路 1 号');
    await page.getByRole('button', { name: '保存地址' }).click();
    await page.getByText('请填写正确的电话号码').waitFor();
    await page.getByLabel('手机号码').fill('13800000000');
    await page.getByRole('button', { name: '保存地址' }).click();
    await page.getByRole('radio', { name: /张三/, checked: true }).waitFor();
    await page.getByLabel('订单备注').fill('请尽快发货');
    await screenshot(page, 'store-checkout');
  });

  const token = await buyerToken(username);
  await step(page, 'submit', async () => {
    const posts = [];
    const countPosts = (req) => req.method() === 'POST' && new URL(req.url()).pathname === '/api/v1/orders' && posts.push(req);
    page.on('request', countPosts);
    await page.getByRole('button', { name: '提交订单' }).dblclick();
    await page.waitForURL(/#\/pay\/\d+$/);
    page.off('request', countPosts);
    assert.equal(posts.length, 1, 'a double click on 提交订单 sent one order request');
    const orders = await api('GET', '/api/v1/orders', { token });
    assert.equal(orders.total, 1, 'a double click on 提交订单 placed one order');
    const order = orders.items[0];
    assert.equal(order.lines[0].quantity, 3);
    assert.equal(order.remark, '请尽快发货');
    await page.getByTestId('payable').getByText(formatYuan(order.payable)).waitFor();
    await screenshot(page, 'store-pay');
  });

  await step(page, 'cashier', async () => {
    await page.getByRole('button', { name: /去支付/ }).click();
    await page.waitForURL(/\/sandbox\/pay\//);
    await screenshot(page, 'store-sandbox-cashier');
    await page.getByRole('button', { name: 'Pay', exact: true }).click();
    await page.getByText('Paid.').waitFor();
    await page.getByRole('link', { name: /返回商店/ }).click();
    await page.waitForURL(/#\/orders\/\d+$/);
    // The order page asks again until the sandbox's notify has marked the order paid.
    await page.getByTestId('order-status').getByText('已支付').waitFor({ timeout: 20000 });
    await page.getByRole('status').getByText('支付成功').waitFor();
    await screenshot(page, 'store-order-paid');
  });

  await step(page, 'orders', async () => {
    await page.goto('/#/orders?status=paid');
    await page.locator('.order-card').getByText('已支付').waitFor();
    await screenshot(page, 'store-orders');
    await page.goto('/#/addresses');
    await page.getByText('科技园路 1 号').waitFor();
    await screenshot(page, 'store-addresses');
    await page.getByRole('link', { name: '编辑' }).click();
    await page.waitForURL(/#\/addresses\/\d+$/);
    await page.getByLabel('详细地址').fill('科技园路 2 号');
    await page.getByRole('button', { name: '保存地址' }).click();
    await page.waitForURL(/#\/addresses$/);
    await page.getByText('科技园路 2 号').waitFor();
  });
});

test('a buyer cancels an unpaid order and confirms receipt of a shipped one', async (t) => {
  const staff = await staffToken();
  const product = await phoneWithSpecs(usedProducts);
  usedProducts.add(product.id);
  const page = await newPage(browser, t, { mobile: true });
  const username = newBuyerName();
  await page.goto('/#/login');
  await registerInPage(page, username);
  await page.waitForURL(/#\/$/);
  const token = await buyerToken(username);
  const address = await api('POST', '/api/v1/me/addresses', {
    token,
    body: { recipient: '王五', phone: '13700000000', province: '上海市', city: '上海市', district: '浦东新区', detail: '世纪大道 3 号' },
  });
  const order = (key) =>
    api('POST', '/api/v1/orders', {
      token,
      headers: { 'Idempotency-Key': `${run}-${key}` },
      body: { items: [{ sku_id: product.skus[0].id, quantity: 1 }], address_id: address.id },
    });

  await step(page, 'cancel', async () => {
    const unpaid = await order('unpaid');
    await page.goto(`/#/orders/${unpaid.id}`);
    await page.getByTestId('order-status').getByText('待付款').waitFor();
    await page.getByRole('button', { name: '取消订单' }).click();
    await page.getByText('确定取消这个订单？').waitFor();
    await page.getByRole('button', { name: '取消订单' }).click();
    await page.getByTestId('order-status').getByText('已取消').waitFor();
    assert.equal((await api('GET', `/api/v1/orders/${unpaid.id}`, { token })).status, 'cancelled');
  });

  await step(page, 'confirm-receipt', async () => {
    const shipped = await order('shipped');
    const payment = await api('POST', `/api/v1/orders/${shipped.id}/payments`, {
      token,
      headers: { 'Idempotency-Key': `${run}-pay` },
      body: { method: 'sandbox' },
    });
    await api('POST', `${new URL(payment.pay_url).pathname}/pay`, { headers: { Accept: 'application/json' } });
    await waitFor('the order to be paid', async () => (await api('GET', `/api/v1/orders/${shipped.id}`, { token })).status === 'paid');
    await api('POST', `/api/v1/admin/orders/${shipped.id}/ship`, { token: staff, body: { carrier: '顺丰', tracking_no: `SF${run}` } });
    await page.goto(`/#/orders/${shipped.id}`);
    await page.getByTestId('order-status').getByText('已发货').waitFor();
    await page.getByText(`顺丰 SF${run}`).waitFor();
    await screenshot(page, 'store-order-shipped');
    await page.getByRole('button', { name: '确认收货' }).click();
    await page.getByText('确认已收到商品？').waitFor();
    await page.getByRole('button', { name: '确认收货' }).click();
    await page.getByTestId('order-status').getByText('已完成').waitFor();
  });
});

test('a sold-out SKU cannot be chosen, and stock gone at checkout is explained', async (t) => {
  const staff = await staffToken();
  const product = await phoneWithSpecs(usedProducts);
  usedProducts.add(product.id);
  const target = product.skus[0];
  t.after(() => setStock(staff, target.id, target.stock));

  const page = await newPage(browser, t, { mobile: true });
  const username = newBuyerName();
  await page.goto('/#/login');
  await registerInPage(page, username);
  await page.waitForURL(/#\/$/);
  const token = await buyerToken(username);
  await api('POST', '/api/v1/me/addresses', {
    token,
    body: { recipient: '李四', phone: '13900000000', province: '北京市', city: '北京市', district: '朝阳区', detail: '建国路 2 号' },
  });

  await step(page, 'out-of-stock-at-checkout', async () => {
    await page.goto(`/#/product/${product.id}`);
    await pickSku(page, product, target);
    await page.getByRole('button', { name: '立即购买' }).click();
    await page.waitForURL(/#\/checkout\?/);
    await page.getByRole('radio', { name: /李四/ }).waitFor();
    // The last pieces sell elsewhere while the buyer looks at the checkout.
    await setStock(staff, target.id, 0);
    await page.getByRole('button', { name: '提交订单' }).click();
    await page.getByText(messageFor('out_of_stock')).waitFor();
    await page.getByText(`「${product.title} ${specText(target.specs)}」已无货`).waitFor();
    await screenshot(page, 'store-checkout-out-of-stock');
    const orders = await api('GET', '/api/v1/orders', { token });
    assert.equal(orders.total, 0, 'the refused order was not placed');
  });

  await step(page, 'sold-out-sku', async () => {
    // The product page reads stock through a cache of about a second.
    await waitFor('the product to show the SKU sold out', async () => {
      const p = await api('GET', `/api/v1/products/${product.id}`);
      return p.skus.find((s) => s.id === target.id).stock === 0;
    });
    await page.goto(`/#/product/${product.id}`);
    await page.getByRole('heading', { name: product.title }).waitFor();
    const [first, ...rest] = product.specs;
    for (const spec of rest) {
      await page.getByRole('group', { name: spec.name }).getByRole('button', { name: target.specs[spec.name], exact: true }).click();
    }
    const firstRow = page.getByRole('group', { name: first.name });
    // The sold-out combination is disabled.
    await firstRow.getByRole('button', { name: target.specs[first.name], exact: true, disabled: true }).waitFor();
    const inStock = product.skus.find((s) => s.id !== target.id && rest.every((spec) => s.specs[spec.name] === target.specs[spec.name]));
    assert.ok(inStock, 'the phone has another colour in the same 容量');
    // A combination in stock stays enabled.
    await firstRow.getByRole('button', { name: inStock.specs[first.name], exact: true, disabled: false }).waitFor();
    await screenshot(page, 'store-product-sold-out');
  });
});

test('a lost answer is retried as the same order, a strange cashier address is not followed, an unknown session offers a retry', async (t) => {
  const product = await phoneWithSpecs(usedProducts);
  usedProducts.add(product.id);
  const sku = product.skus[0];
  const page = await newPage(browser, t, { mobile: true });
  const username = newBuyerName();
  await page.goto('/#/login');
  await registerInPage(page, username);
  await page.waitForURL(/#\/$/);
  const token = await buyerToken(username);
  await api('POST', '/api/v1/me/addresses', {
    token,
    body: { recipient: '赵六', phone: '13600000000', province: '浙江省', city: '杭州市', district: '西湖区', detail: '文三路 4 号' },
  });

  await step(page, 'lost-order-answer', async () => {
    await page.goto(`/#/checkout?product=${product.id}&sku=${sku.id}&qty=1`);
    await page.getByRole('radio', { name: /赵六/, checked: true }).waitFor();
    await page.getByLabel('订单备注').fill('第一次');
    // The first order request reaches the server, which makes the order, but its answer is lost.
    const sent = [];
    await page.route('**/api/v1/orders', async (route) => {
      sent.push({ key: route.request().headers()['idempotency-key'], body: route.request().postData() });
      if (sent.length === 1) {
        await route.fetch();
        await route.abort('connectionreset');
      } else {
        await route.continue();
      }
    });
    await page.getByRole('button', { name: '提交订单' }).click();
    await page.getByText(messageFor('network_error')).waitFor();
    await page.getByText('订单可能已经提交').waitFor();
    // The form is held as it was sent: the retry is the same request.
    assert.ok(await page.getByLabel('订单备注').evaluate((el) => el.readOnly), 'the remark cannot change before an answer');
    await screenshot(page, 'store-checkout-lost-answer');
    await page.getByRole('button', { name: '重新提交' }).click();
    await page.waitForURL(/#\/pay\/\d+$/);
    await page.unroute('**/api/v1/orders');
    assert.equal(sent.length, 2);
    assert.equal(sent[1].key, sent[0].key, 'the retry sent the same Idempotency-Key');
    assert.equal(sent[1].body, sent[0].body, 'the retry sent the same body');
    const orders = await api('GET', '/api/v1/orders', { token });
    assert.equal(orders.total, 1, 'the lost answer and its retry made one order');
    assert.equal(page.url().split('/pay/')[1], orders.items[0].id);
  });

  await step(page, 'unsafe-pay-url', async () => {
    await page.route('**/api/v1/orders/*/payments', (route) =>
      route.fulfill({ status: 201, contentType: 'application/json', body: JSON.stringify({ method: 'sandbox', pay_url: 'javascript:window.pwned=1' }) }));
    await page.getByRole('button', { name: /去支付/ }).click();
    await page.getByText(messageFor('invalid_response')).waitFor();
    await page.unroute('**/api/v1/orders/*/payments');
    assert.match(page.url(), /#\/pay\/\d+$/);
    assert.equal(await page.evaluate(() => window.pwned ?? null), null);
  });

  await step(page, 'session-unknown', async () => {
    // The server cannot be reached when the page asks for its session: the buyer, logged in
    // all along, is offered a retry rather than the login form.
    await page.route('**/api/v1/auth/refresh', (route) => route.abort('connectionrefused'));
    await page.goto('/#/cart');
    await page.reload();
    await page.getByText('暂时无法确认登录状态').waitFor();
    assert.match(page.url(), /#\/cart$/);
    await screenshot(page, 'store-session-unknown');
    await page.unroute('**/api/v1/auth/refresh');
    await page.getByRole('button', { name: '重试' }).click();
    await page.getByRole('heading', { name: /购物车/ }).waitFor();
    assert.match(page.url(), /#\/cart$/);
  });
});

test('merchant HTML in a description keeps only allow-listed markup', async (t) => {
  // Not the harness's page: parsing hostile markup makes chromium report the inline handlers
  // and styles the page's CSP blocks, which is expected here; nothing may run all the same.
  const context = await browser.newContext({ baseURL });
  t.after(() => context.close());
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  page.on('console', (msg) => {
    const text = msg.text();
    if (msg.type() === 'error' && !/^Failed to load resource|violates the following Content Security Policy directive/.test(text)) problems.push(text);
  });
  await page.goto('/#/');
  await page.locator('.product-card').first().waitFor();
  // The product page's renderer, run in the page on hostile markup.
  const rendered = await page.evaluate(async () => {
    const { richText } = await import('/ui/store/richtext.js');
    const { h, render } = await import('/ui/vendor/preact-htm.js');
    const box = document.createElement('div');
    render(
      h('div', null, richText(
        '<p onclick="window.pwned=1">好<b>物</b><script>window.pwned=2</script></p>' +
          '<img src="javascript:window.pwned=3"><img src="/media/none.png" onerror="window.pwned=4">' +
          '<a href="javascript:window.pwned=5">坏链接</a><a href="https://example.com/x">外链</a>' +
          '<iframe src="https://example.com/"></iframe><span style="color:red">文字</span><style>p{}</style>',
      )),
      box,
    );
    return { html: box.innerHTML, pwned: window.pwned ?? null };
  });
  assert.equal(rendered.pwned, null);
  assert.deepEqual(problems, []);
  assert.equal(
    rendered.html,
    '<div><p>好<b>物</b></p><img src="/media/none.png" alt="" loading="lazy">坏链接' +
      '<a href="https://example.com/x" rel="noopener noreferrer nofollow" target="_blank">外链</a>文字</div>',
  );
});

test('too many wrong passwords are explained in words', async (t) => {
  const username = newBuyerName();
  await api('POST', '/api/v1/auth/register', { body: { username, password: PASSWORD } });
  const page = await newPage(browser, t, { mobile: true });
  await page.goto('/#/login');
  await page.getByLabel('用户名或手机号').fill(username);
  await page.getByLabel('密码').fill('Wrong-pass-9');
  const alert = page.locator('.error[role=alert]');
  let shown = '';
  for (let attempt = 1; attempt <= 10 && !shown; attempt++) {
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login'));
    await page.getByRole('button', { name: '登录', exact: true }).click();
    const res = await answered;
    if (res.status() === 429) {
      await page.locator('.error[role=alert]', { hasText: messageFor('too_many_attempts') }).waitFor();
      shown = (await alert.textContent()) || '';
      break;
    }
    assert.equal(res.status(), 401);
    await page.locator('.error[role=alert]', { hasText: exactText(messageFor('invalid_credentials')) }).waitFor();
  }
  assert.ok(shown.startsWith(messageFor('too_many_attempts')), `after repeated wrong passwords the page shows: ${shown}`);
  assert.doesNotMatch(shown, /too_many_attempts|HTTP 429/);
  await screenshot(page, 'store-login-too-many-attempts');
});
