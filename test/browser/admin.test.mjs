// The merchant console (/admin/) in chromium against the real binary: a merchant logs in,
// builds a product with two SKUs and an uploaded image, stocks it and puts it on shelf,
// ships one buyer's paid order and refunds another (double clicks included), an operator
// does not get the staff screen, the API's refusals are shown in words, every main screen
// renders (screenshots), and the console's download size is measured.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { launchBrowser, newPage, screenshot, step, api, staffToken, adminUser, adminPassword } from './harness.mjs';

const CONSOLE_BUDGET_BYTES = 1024 * 1024;
const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

let browser;
let adminToken;
let adminId;

// ---- test data through the API ----

function crc32(bytes) {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

// tinyPNG draws a w×h image of one colour, a real PNG the server's type sniffing accepts.
function tinyPNG(w, h, [r, g, b]) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: w }, () => [r, g, b]).flat())]);
  const pixels = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(pixels)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// waitFor polls an API condition the server reaches asynchronously (a payment notify).
async function waitFor(what, check, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// buyerWithPaidOrders registers a buyer, gives them an address and places and pays (in the
// sandbox) count orders of one demo SKU in stock.
async function buyerWithPaidOrders(count) {
  const username = `buyer_${run}`;
  const reg = await api('POST', '/api/v1/auth/register', { body: { username, password: `Pass${run}9` } });
  const token = reg.tokens.access_token;
  const address = await api('POST', '/api/v1/me/addresses', {
    token,
    body: { recipient: '王小明', phone: '13800138000', province: '浙江省', city: '杭州市', district: '西湖区', detail: '文三路 100 号' },
  });
  const list = await api('GET', '/api/v1/products?page_size=50');
  let sku;
  for (const p of list.items) {
    const detail = await api('GET', `/api/v1/products/${p.id}`);
    sku = detail.skus.find((s) => s.stock >= count);
    if (sku) break;
  }
  assert.ok(sku, 'a demo SKU with stock to order');
  const orders = [];
  for (let i = 0; i < count; i++) {
    const order = await api('POST', '/api/v1/orders', {
      token,
      headers: { 'Idempotency-Key': `order-${run}-${i}` },
      body: { items: [{ sku_id: sku.id, quantity: 1 }], address_id: address.id },
    });
    const pay = await api('POST', `/api/v1/orders/${order.id}/payments`, { token, headers: { 'Idempotency-Key': `pay-${run}-${i}` }, body: { method: 'sandbox' } });
    await api('POST', `${pay.pay_url}/pay`, { headers: { Accept: 'application/json' } });
    orders.push(await waitFor(`order ${order.order_no} paid`, async () => {
      const o = await api('GET', `/api/v1/orders/${order.id}`, { token });
      return o.status === 'paid' && o;
    }));
  }
  return { user: reg.user, orders };
}

// ---- driving the console ----

async function login(page, username, password, path = '/admin/') {
  await page.goto(path);
  await page.locator('#login-username').waitFor();
  await page.fill('#login-username', username);
  await page.fill('#login-password', password);
  await page.locator('.login-submit').click();
  await page.locator('.layout').waitFor();
}

// visit opens a console route and waits for its screen to finish loading: the answer of the
// screen's API call (apiPath, when the screen makes one on opening), the content ready names,
// and no table or screen still loading.
async function visit(page, hash, ready, apiPath) {
  const answered = apiPath && page.waitForResponse((r) => new URL(r.url()).pathname === apiPath);
  await page.goto(`/admin/#${hash}`);
  if (answered) {
    const res = await answered;
    assert.ok(res.status() < 400, `${apiPath} answered ${res.status()}`);
  }
  await page.locator(ready).first().waitFor();
  await page.locator('.layout__content .el-table.is-loading, .layout__content .el-loading').first().waitFor({ state: 'detached' });
}

// countRequests counts, from now on, the page's requests of method to a path matching pattern.
function countRequests(page, method, pattern) {
  let count = 0;
  page.on('request', (req) => {
    if (req.method() === method && pattern.test(new URL(req.url()).pathname)) count++;
  });
  return () => count;
}

// shot saves a screenshot of the whole page seen from its top (the sticky bars stay there).
async function shot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, name);
}

const toast = (page, text) => page.locator('.el-message', { hasText: text }).first().waitFor();

before(async () => {
  browser = await launchBrowser();
  adminToken = await staffToken();
  adminId = (await api('GET', '/api/v1/admin/me', { token: adminToken })).id;
});

after(async () => {
  await browser?.close();
});

test('merchant logs in, creates a product with two SKUs and an image, stocks it and puts it on shelf', async (t) => {
  const page = await newPage(browser, t);
  const title = `控制台测试保温杯 ${run}`;

  await step(page, 'login', async () => {
    // A deep link without a session goes to the login page and, once logged in, back to it.
    await page.goto('/admin/#/products/new');
    await page.locator('#login-username').waitFor();
    assert.match(page.url(), /#\/login\?next=%2Fproducts%2Fnew/);
    await page.fill('#login-username', adminUser);
    await page.fill('#login-password', 'wrong-password-1');
    await page.locator('.login-submit').click();
    await page.getByText('用户名或密码错误').waitFor();
    await shot(page, 'admin-login');
    await page.fill('#login-password', adminPassword);
    await page.locator('.login-submit').click();
    await page.locator('#product-title').waitFor();
    assert.match(page.url(), /#\/products\/new$/);
  });

  let productId;
  await step(page, 'create-product', async () => {
    // The client-side checks come first: nothing filled in is refused before any request.
    await page.getByRole('button', { name: '创建商品' }).click();
    await page.getByText('请输入商品标题').waitFor();
    await page.getByText('请选择商品分类').waitFor();

    await page.fill('#product-title', title);
    await page.fill('#product-subtitle', '316 不锈钢，12 小时保温');
    await page.selectOption('#product-category', { index: 1 });
    await page.setInputFiles('input[type=file][name=image]', { name: 'cup.png', mimeType: 'image/png', buffer: tinyPNG(64, 64, [64, 158, 255]) });
    await page.locator('[data-testid=product-images] img[src^="/media/"]').waitFor();

    await page.getByRole('button', { name: '＋ 添加规格' }).click();
    await page.getByLabel('规格名 1').fill('颜色');
    await page.getByLabel('规格值 1').fill('黑色');
    await page.getByLabel('规格值 1').press('Enter');
    await page.getByLabel('规格值 1').fill('白色');
    await page.getByLabel('规格值 1').press('Enter');
    await page.getByLabel('黑色 售价').fill('abc');
    await page.getByLabel('白色 售价').fill('129');
    await page.getByLabel('黑色 库存').fill('-1');
    await page.getByRole('button', { name: '创建商品' }).click();
    await page.getByText('金额格式不对，如 99.90').waitFor();
    await page.getByText('库存须为不小于 0 的整数').waitFor();

    await page.getByLabel('黑色 售价').fill('99.90');
    await page.getByLabel('黑色 划线价').fill('129');
    await page.getByLabel('黑色 库存').fill('40');
    await page.getByLabel('白色 库存').fill('25');
    await page.getByLabel('白色 编码').fill(`CUP-W-${run}`);

    const editor = page.locator('#product-description');
    await editor.click();
    await page.getByRole('button', { name: '加粗' }).click();
    await page.keyboard.type('双层真空');
    await page.getByRole('button', { name: '加粗' }).click();
    await page.keyboard.type('，长效保温');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: '无序列表' }).click();
    await page.keyboard.type('容量 500ml');
    await shot(page, 'admin-product-edit');

    await page.getByRole('button', { name: '创建商品' }).click();
    await toast(page, '商品已创建');
    await page.waitForURL(/#\/products\/\d+$/);
    productId = page.url().match(/#\/products\/(\d+)$/)[1];
  });

  await step(page, 'check-product', async () => {
    const p = await api('GET', `/api/v1/admin/products/${productId}`, { token: adminToken });
    assert.equal(p.title, title);
    assert.equal(p.status, 'off_shelf');
    assert.deepEqual(p.specs, [{ name: '颜色', values: ['黑色', '白色'] }]);
    assert.match(p.images[0], /^\/media\/[0-9a-f]{64}\.png$/);
    assert.match(p.description, /<(b|strong)>双层真空<\/(b|strong)>/);
    assert.match(p.description, /<li>容量 500ml<\/li>/);
    const bySpec = Object.fromEntries(p.skus.map((s) => [s.specs['颜色'], s]));
    assert.equal(bySpec['黑色'].price, 9990);
    assert.equal(bySpec['黑色'].list_price, 12900);
    assert.equal(bySpec['白色'].price, 12900);
    assert.equal(bySpec['白色'].code, `CUP-W-${run}`);
    assert.equal(bySpec['黑色'].stock, 40);
    assert.equal(bySpec['白色'].stock, 25);
  });

  await step(page, 'on-shelf', async () => {
    await page.locator('.page-header').getByRole('button', { name: '上架' }).click();
    await toast(page, '已上架');
    await page.locator('.page-header .el-tag', { hasText: '在售' }).waitFor();
    const p = await api('GET', `/api/v1/products/${productId}`);
    assert.equal(p.status, 'on_shelf');
  });

  await step(page, 'edit-product', async () => {
    // Editing: a new colour becomes a new SKU with its stock, another SKU gets a new price,
    // the third is left alone.
    const skus = async () => {
      const p = await api('GET', `/api/v1/admin/products/${productId}`, { token: adminToken });
      return Object.fromEntries(p.skus.map((s) => [s.specs['颜色'], s]));
    };
    const before = await skus();
    await page.getByLabel('规格值 1').fill('蓝色');
    await page.getByLabel('规格值 1').press('Enter');
    await page.getByLabel('蓝色 售价').fill('109');
    await page.getByLabel('蓝色 库存').fill('5');
    await page.getByLabel('白色 售价').fill('119.00');
    await page.getByRole('button', { name: '保存' }).click();
    await toast(page, '商品已保存');
    let now = await skus();
    assert.deepEqual(Object.keys(now).sort(), ['白色', '蓝色', '黑色']);
    assert.equal(now['白色'].price, 11900);
    assert.equal(now['蓝色'].price, 10900);
    assert.equal(now['蓝色'].stock, 5);
    assert.equal(now['黑色'].id, before['黑色'].id);
    assert.equal(now['黑色'].price, 9990);

    // Dropping the colour again deletes its SKU, once the merchant confirms. The first save's
    // toast goes first, so the one awaited below is the second save's.
    await page.locator('.el-message', { hasText: '商品已保存' }).waitFor({ state: 'detached' });
    await page.getByRole('button', { name: '删除规格值 蓝色' }).click();
    await page.getByText('保存时将删除 SKU：蓝色').waitFor();
    await page.getByRole('button', { name: '保存' }).click();
    await page.locator('.el-dialog').getByRole('button', { name: '删除并保存' }).click();
    await toast(page, '商品已保存');
    now = await skus();
    assert.deepEqual(Object.keys(now).sort(), ['白色', '黑色']);
    assert.equal(now['黑色'].stock, 40);
  });

  await step(page, 'stock', async () => {
    await visit(page, `/stock?product=${productId}`, '.el-table td', `/api/v1/admin/products/${productId}`);
    const black = page.locator('tr', { hasText: '颜色:黑色' });
    await black.getByRole('button', { name: '增减' }).click();
    await page.getByLabel('增减数量').fill('-41');
    await page.getByLabel('增减原因').fill('盘亏');
    await page.getByRole('button', { name: '确认增减' }).click();
    await page.getByText('可售库存只有 40，不能减少这么多').waitFor();
    await page.getByLabel('增减数量').fill('15');
    await page.getByLabel('增减原因').fill('到货');
    await page.getByRole('button', { name: '确认增减' }).click();
    await toast(page, '可售库存现为 55');
    await black.getByRole('link', { name: '流水' }).click();
    await page.locator('td', { hasText: '到货' }).waitFor();
    await page.locator('[data-testid=stock-available]', { hasText: '55' }).waitFor();
    await shot(page, 'admin-stock-sku');
    const skuId = page.url().match(/#\/stock\/(\d+)/)[1];
    const report = await api('GET', `/api/v1/admin/skus/${skuId}/stock`, { token: adminToken });
    assert.equal(report.level.available, 55);
    assert.deepEqual(report.ledger.map((e) => e.reason), ['到货', '新建商品']);
  });
});

test('merchant ships one paid order and refunds another, each once despite double clicks', async (t) => {
  const { user, orders } = await buyerWithPaidOrders(2);
  const [toShip, toRefund] = orders;
  assert.ok(toRefund.payable > 100, 'the order to refund costs more than the ¥1 refunded first');
  const page = await newPage(browser, t);
  await login(page, adminUser, adminPassword);

  await step(page, 'find-order', async () => {
    await visit(page, '/orders', '.el-table', '/api/v1/admin/orders');
    await page.fill('input[name=order_no]', toShip.order_no);
    // The list counted is the one the search answered, not the unfiltered one before it.
    const searched = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/admin/orders' && new URL(r.url()).searchParams.get('order_no') === toShip.order_no);
    await page.getByRole('button', { name: '查询' }).click();
    assert.equal((await searched).status(), 200);
    await page.locator('.el-table.is-loading').waitFor({ state: 'detached' });
    assert.equal(await page.locator('.el-table tbody tr').count(), 1);
    await page.locator('td a', { hasText: toShip.order_no }).waitFor();
    await shot(page, 'admin-orders');
    await page.locator('td a', { hasText: toShip.order_no }).click();
    await page.locator('.page-header', { hasText: toShip.order_no }).waitFor();
  });

  await step(page, 'ship', async () => {
    await page.getByRole('button', { name: '发货' }).click();
    // The dialog takes the focus to its first field; Escape closes it and gives the focus back.
    await page.locator('input[name=carrier]:focus').waitFor();
    await page.keyboard.press('Escape');
    await page.locator('.el-dialog').waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement.textContent), '发货');
    await page.getByRole('button', { name: '发货' }).click();
    await page.getByRole('button', { name: '确认发货' }).click();
    await page.getByText('请选择或输入快递公司').waitFor();
    await page.fill('input[name=carrier]', '顺丰速运');
    await page.fill('input[name=tracking_no]', `SF${run}`.toUpperCase());
    const ships = countRequests(page, 'POST', /\/ship$/);
    await page.getByRole('button', { name: '确认发货' }).dblclick();
    await toast(page, '已发货');
    assert.equal(ships(), 1, 'a double click sends one ship request');
    await page.locator('.page-header .el-tag', { hasText: '已发货' }).waitFor();
    await shot(page, 'admin-order-detail');
    const o = await api('GET', `/api/v1/admin/orders/${toShip.id}`, { token: adminToken });
    assert.equal(o.status, 'shipped');
    assert.equal(o.carrier, '顺丰速运');
    assert.equal(o.history.filter((h) => h.to === 'shipped').length, 1);
  });

  await step(page, 'note', async () => {
    await page.getByRole('button', { name: '备注' }).click();
    await page.fill('textarea[name=note]', '买家要求周末送达');
    await page.locator('.el-dialog').getByRole('button', { name: '保存' }).click();
    await page.locator('[data-testid=staff-note]', { hasText: '买家要求周末送达' }).waitFor();
  });

  await step(page, 'refund-stale', async () => {
    // Another administrator refunds ¥1 while this page is open: the page still offers the whole
    // payment, and the API's 422 refund_exceeds_paid is shown in words with what is left.
    await visit(page, `/orders/${toRefund.id}`, `.page-header:has-text("${toRefund.order_no}")`, `/api/v1/admin/orders/${toRefund.id}/payments`);
    await api('POST', `/api/v1/admin/orders/${toRefund.id}/refunds`, {
      token: adminToken,
      headers: { 'Idempotency-Key': `api-refund-${run}` },
      body: { amount: 100, reason: '运费补偿' },
    });
    await page.getByRole('button', { name: '退款' }).click();
    await page.fill('input[name=reason]', '买家申请退款');
    await page.getByRole('button', { name: '确认退款' }).click();
    const left = toRefund.payable - 100;
    const yuan = `¥${Math.trunc(left / 100).toLocaleString('zh-CN')}.${String(left % 100).padStart(2, '0')}`;
    await page.locator('.el-dialog [role=alert]', { hasText: `退款金额超过可退金额：剩余可退 ${yuan}` }).waitFor();
    await shot(page, 'admin-refund-refused');
    await page.getByRole('button', { name: '取消' }).click();
  });

  await step(page, 'refund', async () => {
    await visit(page, '/orders', '.el-table', '/api/v1/admin/orders');
    await visit(page, `/orders/${toRefund.id}`, `.page-header:has-text("${toRefund.order_no}")`, `/api/v1/admin/orders/${toRefund.id}/payments`);
    await page.getByRole('button', { name: '退款' }).click();
    await page.getByText('部分退款').click();
    await page.fill('input[name=amount]', '0.001');
    await page.fill('input[name=reason]', '买家申请退款');
    await page.getByRole('button', { name: '确认退款' }).click();
    await page.getByText('金额格式不对，如 10.50').waitFor();
    await page.getByText('全额退款').click();
    const refundPosts = countRequests(page, 'POST', /\/refunds$/);
    await page.getByRole('button', { name: '确认退款' }).dblclick();
    await toast(page, '已提交退款');
    assert.equal(refundPosts(), 1, 'a double click sends one refund request');
    const { refunds } = await api('GET', `/api/v1/admin/orders/${toRefund.id}/payments`, { token: adminToken });
    assert.deepEqual(
      refunds.map((r) => [r.amount, r.reason, r.requested_by]),
      [
        [100, '运费补偿', `staff:${adminId}`],
        [toRefund.payable - 100, '买家申请退款', `staff:${adminId}`],
      ],
    );
    await page.locator('td', { hasText: '买家申请退款' }).waitFor();
  });

  await step(page, 'buyer', async () => {
    await visit(page, `/users/${user.id}`, '.el-descriptions', `/api/v1/admin/users/${user.id}`);
    await page.getByText('文三路 100 号').waitFor();
    await page.locator('td a', { hasText: toShip.order_no }).waitFor();
    await shot(page, 'admin-user-detail');
  });
});

test('an operator sees neither the staff screen nor refunds, and is sent out when disabled', async (t) => {
  const username = `op_${run}`;
  const password = `Oper${run}8x`;
  const operator = await api('POST', '/api/v1/admin/staff', { token: adminToken, body: { username, password, role: 'operator' } });
  const page = await newPage(browser, t);
  await login(page, username, password);
  const menu = page.locator('.sidebar__menu');
  await menu.getByText('订单列表').waitFor();
  for (const adminOnly of ['员工', '买家', '审计日志', '死信事件', '支付与对账']) {
    assert.equal(await menu.getByText(adminOnly, { exact: true }).count(), 0, `${adminOnly} is not in an operator's menu`);
  }
  await page.goto('/admin/#/staff');
  await page.getByText('此页面仅管理员可用。').waitFor();
  await shot(page, 'admin-operator-forbidden');

  // An administrator disables the account: its tokens are refused within seconds, and the
  // operator's next call ends the session with the reason on the login page.
  await api('POST', `/api/v1/admin/staff/${operator.id}/disable`, { token: adminToken });
  await waitFor('the disabled operator sent to the login page', async () => {
    await page.goto(`/admin/#/orders?page=${Date.now()}`);
    return page
      .locator('#login-username')
      .waitFor({ timeout: 500 })
      .then(() => true, () => false);
  }, 15000);
  await page.getByText('账号已停用，请联系管理员').waitFor();
  await page.fill('#login-username', username);
  await page.fill('#login-password', password);
  await page.locator('.login-submit').click();
  await page.locator('.login-box .el-alert--error', { hasText: '账号已停用' }).waitFor();
  assert.equal(await page.locator('.login-box .el-alert').count(), 1);
});

test('refusals are shown in words, field by field', async (t) => {
  // A category deleted by another administrator while the form is open: the page offered it,
  // only the API knows it is gone (400 validation_failed on category_id), and the field says so.
  const category = await api('POST', '/api/v1/admin/categories', { token: adminToken, body: { name: `临时分类 ${run}` } });
  const page = await newPage(browser, t);
  await login(page, adminUser, adminPassword, '/admin/#/products/new');
  await page.getByLabel('商品标题').fill(`分类已删除的商品 ${run}`);
  await page.getByLabel('商品分类').selectOption(category.id);
  await page.getByLabel('默认规格 售价').fill('10');
  await api('DELETE', `/api/v1/admin/categories/${category.id}`, { token: adminToken });
  await page.getByRole('button', { name: '创建商品' }).click();
  await page.getByText('请检查标出的内容').first().waitFor();
  const select = page.getByLabel('商品分类');
  await page.locator('#product-category[aria-invalid=true]').waitFor();
  const describedBy = await select.getAttribute('aria-describedby');
  assert.equal(await page.locator(`[id="${describedBy}"]`).textContent(), '分类不存在');
  await shot(page, 'admin-product-field-error');

  // The staff form checks the password rules itself (no request), the username among them;
  // a taken username is a 409 the page cannot foresee.
  const posts = countRequests(page, 'POST', /^\/api\/v1\/admin\/staff$/);
  await page.goto('/admin/#/staff');
  await page.getByRole('button', { name: '＋ 添加员工' }).click();
  const dialog = page.locator('.el-dialog');
  const username = `clerk_${run}`;
  await dialog.getByLabel('用户名').fill(username);
  await dialog.getByLabel('初始密码').fill(`${username}1`);
  await dialog.getByRole('button', { name: '添加' }).click();
  const passwordError = dialog.locator('.el-form-item__error');
  await passwordError.waitFor();
  assert.equal(await passwordError.textContent(), '密码不能包含用户名');
  assert.equal(posts(), 0, 'a password the page refuses is not sent');
  await shot(page, 'admin-staff-field-error');
  await dialog.getByLabel('用户名').fill(adminUser);
  await dialog.getByLabel('初始密码').fill(`Fresh${run}77`);
  await dialog.getByRole('button', { name: '添加' }).click();
  await dialog.getByText('用户名已被占用').waitFor();
  assert.equal(posts(), 1);
});

test('every main screen renders, and the console stays within its download budget', async (t) => {
  const page = await newPage(browser, t);
  await login(page, adminUser, adminPassword);

  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const kinds = new Map();
  const bytes = { console: 0, api: 0, images: 0 };
  cdp.on('Network.responseReceived', (e) => kinds.set(e.requestId, e.type === 'Image' ? 'images' : e.response.url.includes('/api/') ? 'api' : 'console'));
  cdp.on('Network.loadingFinished', (e) => {
    bytes[kinds.get(e.requestId) || 'console'] += e.encodedDataLength;
  });
  // The page again from scratch, its session restored from the refresh cookie; the screens
  // below are then hash changes that load each screen's module on first use.
  await page.reload();
  await page.locator('.layout').waitFor();

  // The dashboard, where the login lands, comes last: opening it again from another screen is
  // what makes it load (and be waited for) afresh. The payments screen asks nothing until a
  // search.
  const screens = [
    ['/products', '.el-table td .product-cell', 'admin-products', '/api/v1/admin/products'],
    ['/categories', '.el-table td .tree-name', 'admin-categories', '/api/v1/admin/categories'],
    ['/stock', '.el-table', 'admin-stock', '/api/v1/admin/stock/low'],
    ['/flash-sales', '.el-table', 'admin-flash-sales', '/api/v1/admin/flash-sales'],
    ['/orders', '.el-table td', 'admin-orders-all', '/api/v1/admin/orders'],
    ['/payments', '.el-table', 'admin-payments', null],
    ['/payments?tab=reconcile', '.el-alert', 'admin-reconciliation', '/api/v1/admin/payments/reconciliation'],
    ['/users', '.el-table td', 'admin-users', '/api/v1/admin/users'],
    ['/staff', '.el-table td', 'admin-staff', '/api/v1/admin/staff'],
    ['/audit-log', '.el-table td', 'admin-audit-log', '/api/v1/admin/audit-log'],
    ['/dead-letters', '.el-table', 'admin-dead-letters', '/api/v1/admin/events/dead-letters'],
    ['/', '[data-testid=dashboard-stats]', 'admin-dashboard', '/api/v1/admin/orders/summary'],
  ];
  for (const [hash, ready, name, apiPath] of screens) {
    await step(page, name, async () => {
      await visit(page, hash, ready, apiPath);
      assert.equal(await page.locator('.layout__content .el-alert--error').count(), 0, `${hash} shows no error`);
      await shot(page, name);
    });
  }
  await cdp.detach();
  // The shell and the module of every screen, each downloaded once, compressed as served.
  console.log(`FIGURE console_bytes=${bytes.console}`);
  console.log(`FIGURE console_api_bytes=${bytes.api}`);
  assert.ok(bytes.console > 0);
  assert.ok(bytes.console <= CONSOLE_BUDGET_BYTES, `the console downloaded ${bytes.console} bytes, over ${CONSOLE_BUDGET_BYTES}`);
});
