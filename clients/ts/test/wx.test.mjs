// wxTransport, driven through a stand-in for the mini-program's `wx` whose request() does what
// wx.request does (wx-request.mjs), since WeChat's runtime is not here.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError, createClient, newIdempotencyKey, wxTransport } from "../dist/esm/index.js";
import { address, baseUrl, needsServer, newCredentials } from "./helpers.mjs";
import { requestOverFetch } from "./wx-request.mjs";

function wxStandIn() {
  const calls = [];
  return {
    calls,
    request(options) {
      calls.push(options);
      return requestOverFetch(options);
    },
  };
}

test("wxTransport: a buyer's calls through wx.request", { skip: needsServer }, async () => {
  const wx = wxStandIn();
  const client = createClient({ baseUrl, transport: wxTransport(wx, { timeoutMs: 10_000 }) });

  await client.POST("/api/v1/auth/register", { body: newCredentials() });
  const found = await client.GET("/api/v1/search", { params: { query: { q: "手机", sort: "price_asc" } } });
  assert.ok(found.data.items.length > 0);
  const prices = found.data.items.map((p) => p.price_min);
  assert.deepEqual(prices, [...prices].sort((a, b) => a - b), "the sort parameter reached the server");

  // Some demo products are sold out: take the first with stock.
  let sku;
  for (const item of found.data.items) {
    const product = await client.GET("/api/v1/products/{id}", { params: { path: { id: item.id } } });
    sku = product.data.skus.find((s) => s.stock > 0);
    if (sku) break;
  }
  assert.ok(sku, "a phone in stock");
  const saved = await client.POST("/api/v1/me/addresses", { body: address });
  const key = newIdempotencyKey();
  const init = { params: { header: { "Idempotency-Key": key } }, body: { items: [{ sku_id: sku.id, quantity: 1 }], address_id: saved.data.id } };
  const order = await client.POST("/api/v1/orders", init);
  const replay = await client.POST("/api/v1/orders", init);
  assert.equal(replay.data.id, order.data.id);
  assert.equal(replay.header("Idempotent-Replayed"), "true", "header names are found whatever their case");

  const missing = await client.GET("/api/v1/orders/{id}", { params: { path: { id: "1" } } }).catch((error) => error);
  assert.ok(missing instanceof ApiError);
  assert.equal(missing.code, "order_not_found");

  // What wx.request was given: the JSON body as text, the token, no parsing by wx.
  const placed = wx.calls.find((c) => c.method === "POST" && c.url === `${baseUrl}/api/v1/orders`);
  assert.deepEqual(JSON.parse(placed.data), init.body);
  assert.equal(placed.header["Idempotency-Key"], key);
  assert.match(placed.header.Authorization, /^Bearer \S+$/);
  assert.equal(placed.dataType, "text");
  assert.equal(placed.timeout, 10_000);
  assert.ok(wx.calls.some((c) => c.url.includes("q=%E6%89%8B%E6%9C%BA")), "the query is percent-encoded UTF-8");
});

test("wxTransport: a failed wx.request is a network_error", async () => {
  const wx = { request: (options) => options.fail({ errMsg: "request:fail timeout" }) };
  const client = createClient({ baseUrl: "https://shop.example.com", transport: wxTransport(wx) });
  const error = await client.GET("/api/v1/products").catch((e) => e);
  assert.ok(error instanceof ApiError);
  assert.equal(error.code, "network_error");
  assert.equal(error.status, 0);
  assert.match(error.message, /request:fail timeout/);
});
