// The pages, driven as a buyer's taps would, against the real server: wx.login to WeChat
// login, browse, search, product, cart, checkout, order and WeChat Pay (wx.requestPayment
// stand-in → WeChat Pay fake → signed notify to the shop → the order paid).
import assert from "node:assert/strict";
import { test } from "node:test";
import { createWx, env, launch, needsServer, parseUrl, plain } from "./harness.mjs";

const tap = (dataset = {}) => ({ currentTarget: { dataset }, detail: {} });
const input = (value) => ({ currentTarget: { dataset: {} }, detail: { value } });

// The url of the last navigateTo or redirectTo, as a route and query.
function lastNavigation(phone, api) {
  const navigations = phone.callsTo(api);
  assert.ok(navigations.length > 0, `no ${api}`);
  return parseUrl(navigations[navigations.length - 1].url);
}

// A phone search result whose product has a SKU with at least `stock` pieces, and that SKU.
async function phoneInStock(mp, stock) {
  const search = await mp.open("pages/search/search");
  search.onInput(input("手机"));
  await search.onSearch();
  for (const result of search.data.results) {
    const product = await mp.open("pages/product/product", { id: result.id });
    const sku = product.product?.skus.find((s) => s.stock >= stock);
    if (sku) {
      return { product, sku };
    }
  }
  throw new Error(`no phone with ${stock} pieces in stock`);
}

// Chooses the SKU's spec values on the product page, as the buyer taps them.
function chooseSku(page, sku) {
  for (const [name, value] of Object.entries(sku.specs)) {
    page.onTapSpec(tap({ name, value }));
  }
  assert.equal(page.data.sku?.id, sku.id, "the tapped specs select the SKU");
}

test("launch logs in with wx.login; the home page lists, filters and loads more", { skip: needsServer }, async () => {
  const phone = createWx();
  const mp = launch(phone.wx, env.baseUrl);
  await mp.require("/utils/api.js").ensureLogin();
  assert.equal(phone.callsTo("login").length, 1);
  const wechatLogin = phone.callsTo("request").find((r) => r.url.endsWith("/api/v1/auth/wechat"));
  assert.match(JSON.parse(wechatLogin.data).code, /-1$/, "the code from wx.login is sent");
  const tokens = phone.wx.getStorageSync("minimart_tokens");
  assert.match(tokens.access_token, /\S/, "the session is kept in storage");

  const home = await mp.open("pages/index/index");
  assert.equal(home.data.error, "");
  assert.ok(home.data.categories.length > 0);
  assert.equal(home.data.products.length, 10);
  assert.match(home.data.products[0].priceText, /^¥\d+\.\d\d$/);
  await home.onReachBottom();
  assert.equal(home.data.products.length, 20);
  assert.equal(new Set(home.data.products.map((p) => p.id)).size, 20, "the second page continues the first");

  await home.onTapCategory(tap({ id: home.data.categories[0].id }));
  assert.equal(home.data.categoryId, home.data.categories[0].id);
  const listed = phone.callsTo("request").filter((r) => r.url.includes("/api/v1/products?"));
  assert.match(listed[listed.length - 1].url, new RegExp(`category_id=${home.data.categoryId}`));

  home.onTapProduct(tap({ id: "42" }));
  assert.deepEqual(lastNavigation(phone, "navigateTo"), { route: "pages/product/product", query: { id: "42" } });

  // A failed image shows the placeholder.
  home.onImageError(tap({ index: 0 }));
  assert.equal(home.data.products[0].image, "");

  // Another start of the mini-program keeps the session: no second wx.login.
  const again = launch(phone.wx, env.baseUrl);
  await again.require("/utils/api.js").ensureLogin();
  assert.equal(phone.callsTo("login").length, 1);
});

test("search, product, cart, checkout with a WeChat address, order and WeChat Pay", { skip: needsServer }, async () => {
  const phone = createWx();
  const mp = launch(phone.wx, env.baseUrl);

  const search = await mp.open("pages/search/search");
  search.onInput(input("  手机 "));
  await search.onSearch();
  assert.ok(search.data.searched);
  assert.ok(search.data.total > 0);
  assert.match(search.data.results[0].title, /手机/);
  assert.ok(phone.callsTo("request").some((r) => r.url.includes("q=%E6%89%8B%E6%9C%BA&")), "the query is trimmed and encoded");

  const { product, sku } = await phoneInStock(mp, 3);
  chooseSku(product, sku);
  product.onTapPlus();
  assert.equal(product.data.quantity, 2);
  await product.onAddToCart();
  assert.deepEqual(plain(phone.callsTo("showToast").pop()), { title: "已加入购物车", icon: "success" });

  const cart = await mp.open("pages/cart/cart");
  assert.deepEqual(plain(cart.data.lines.map((l) => [l.skuId, l.quantity, l.selected])), [[sku.id, 2, true]]);
  await cart.onTapPlus(tap({ sku: sku.id }));
  assert.equal(cart.data.lines[0].quantity, 3);
  await cart.onTapMinus(tap({ sku: sku.id }));
  assert.equal(cart.data.selectedCount, 2);
  cart.onCheckout();
  const toCheckout = lastNavigation(phone, "navigateTo");
  assert.deepEqual(toCheckout, { route: "pages/checkout/checkout", query: { from: "cart" } });

  const checkout = await mp.open(toCheckout.route, toCheckout.query);
  assert.equal(checkout.data.error, "");
  assert.deepEqual(plain(checkout.data.lines.map((l) => [l.skuId, l.quantity])), [[sku.id, 2]]);
  assert.equal(checkout.data.address, null, "a new buyer has no address");
  await checkout.onSubmit();
  assert.deepEqual(plain(phone.callsTo("showToast").pop()), { title: "请选择收货地址", icon: "none" });
  await checkout.onChooseAddress();
  assert.equal(checkout.data.address.recipient, "张三");
  assert.match(checkout.data.address.text, /^广东省广州市天河区/);

  await checkout.onSubmit();
  const toOrder = lastNavigation(phone, "redirectTo");
  assert.equal(toOrder.route, "pages/order/order");
  assert.equal(toOrder.query.pay, "1");
  // A second tap (the answer was lost, say) sends the same key and gets the same order.
  await checkout.onSubmit();
  assert.deepEqual(lastNavigation(phone, "redirectTo"), toOrder);
  const placements = phone.callsTo("request").filter((r) => r.method === "POST" && r.url.endsWith("/api/v1/orders"));
  assert.equal(placements.length, 2);
  assert.equal(placements[0].header["Idempotency-Key"], placements[1].header["Idempotency-Key"]);

  // The order page starts the payment itself (pay=1) and waits until the shop has the notify.
  const order = await mp.open(toOrder.route, toOrder.query);
  const [payment] = phone.callsTo("requestPayment");
  assert.ok(payment, "wx.requestPayment was called");
  assert.match(payment.package, /^prepay_id=\S+$/);
  assert.equal(payment.signType, "RSA");
  const started = phone.callsTo("request").find((r) => r.url.endsWith(`/api/v1/orders/${toOrder.query.id}/payments`));
  assert.deepEqual(JSON.parse(started.data), { method: "wechat_jsapi" });
  assert.equal(order.data.order.status, "paid", `notice: ${order.data.notice}`);
  assert.equal(order.data.order.statusText, "已付款");
  assert.equal(order.data.notice, "");
  assert.deepEqual(plain(order.data.order.lines.map((l) => [l.skuId, l.quantity])), [[sku.id, 2]]);

  const emptied = await mp.open("pages/cart/cart");
  assert.deepEqual(plain(emptied.data.lines), [], "the ordered lines left the cart");
});

test("buy now, cancel the payment sheet, then cancel the order", { skip: needsServer }, async () => {
  const phone = createWx({ payment: "cancel" });
  const mp = launch(phone.wx, env.baseUrl);
  const { product, sku } = await phoneInStock(mp, 1);
  chooseSku(product, sku);
  product.onBuyNow();
  const toCheckout = lastNavigation(phone, "navigateTo");
  assert.deepEqual(toCheckout.query, { product_id: product.data.product.id, sku_id: sku.id, quantity: "1" });

  const checkout = await mp.open(toCheckout.route, toCheckout.query);
  assert.equal(checkout.data.lines[0].priceText, product.data.priceText);
  await checkout.onChooseAddress();
  checkout.onRemarkInput(input("请周末送货"));
  await checkout.onSubmit();
  const toOrder = lastNavigation(phone, "redirectTo");

  const order = await mp.open(toOrder.route, toOrder.query);
  assert.equal(phone.callsTo("requestPayment").length, 1);
  assert.equal(order.data.notice, "已取消支付");
  assert.equal(order.data.order.status, "pending_payment");

  await order.onCancel();
  assert.equal(order.data.order.status, "cancelled");
  assert.equal(order.data.order.statusText, "已取消");
});

test("a session the server no longer knows is replaced by a new wx.login, unseen by the buyer", { skip: needsServer }, async () => {
  const phone = createWx();
  const mp = launch(phone.wx, env.baseUrl);
  const api = mp.require("/utils/api.js");
  await api.ensureLogin();
  const first = phone.wx.getStorageSync("minimart_tokens");

  // The stored tokens stop working: an access token the server refuses, a refresh token it does not know.
  phone.wx.setStorageSync("minimart_tokens", { ...first, access_token: "expired", refresh_token: "revoked" });
  const cart = await mp.open("pages/cart/cart");
  assert.equal(cart.data.error, "");
  assert.equal(cart.data.loaded, true);
  assert.equal(phone.callsTo("login").length, 2, "a second wx.login");
  const second = phone.wx.getStorageSync("minimart_tokens");
  assert.notEqual(second.refresh_token, "revoked");
  const me = await api.client.GET("/api/v1/me");
  assert.match(me.data.id, /^\d+$/);
});

test("errors show as Chinese text: a product that does not exist", { skip: needsServer }, async () => {
  const phone = createWx();
  const mp = launch(phone.wx, env.baseUrl);
  const product = await mp.open("pages/product/product", { id: "1" });
  assert.equal(product.data.error, "商品不存在或已下架");
  assert.equal(product.data.product, null);
  await product.onAddToCart();
  assert.deepEqual(plain(phone.callsTo("showToast").pop()), { title: "请选择规格", icon: "none" });
});
