// A buyer's whole visit through the typed client and fetch, against the real server.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError, createClient, newIdempotencyKey } from "../dist/esm/index.js";
import { address, baseUrl, eventually, needsServer, newCredentials, registeredClient } from "./helpers.mjs";

test("register, log in, browse, search, cart, address, order, sandbox payment", { skip: needsServer }, async () => {
  const client = createClient({ baseUrl });
  const credentials = newCredentials();

  const registered = await client.POST("/api/v1/auth/register", { body: credentials });
  assert.equal(registered.status, 201);
  assert.equal(registered.data.user.username, credentials.username);
  const me = await client.GET("/api/v1/me");
  assert.equal(me.data.id, registered.data.user.id, "the registration's tokens are used for the next call");

  const loggedIn = await client.POST("/api/v1/auth/login", { body: credentials });
  assert.equal(loggedIn.data.user.id, registered.data.user.id);
  assert.notEqual(loggedIn.data.tokens.refresh_token, registered.data.tokens.refresh_token);

  // Browse: categories and the first page of products.
  const categories = await client.GET("/api/v1/categories");
  assert.ok(categories.data.items.length > 0, "the demo catalog has categories");
  const products = await client.GET("/api/v1/products", { params: { query: { page_size: 5 } } });
  assert.equal(products.data.items.length, 5);

  // Search in Chinese: the query is encoded by the client, not by URLSearchParams.
  const found = await client.GET("/api/v1/search", { params: { query: { q: "手机", page_size: 10 } } });
  assert.ok(found.data.items.length > 0, "the demo catalog has phones");
  assert.match(found.data.items[0].title, /手机/, "the best match names the words searched for");

  // Some demo products are sold out: take the first with stock.
  let detail, sku;
  for (const item of found.data.items) {
    detail = await client.GET("/api/v1/products/{id}", { params: { path: { id: item.id } } });
    assert.equal(detail.data.id, item.id);
    sku = detail.data.skus.find((s) => s.stock >= 2);
    if (sku) break;
  }
  assert.ok(sku, "a phone in stock");

  // Cart: add, change the quantity, read it back.
  const added = await client.POST("/api/v1/cart/items", { body: { sku_id: sku.id, quantity: 1 } });
  assert.deepEqual(added.data.lines.map((l) => [l.sku_id, l.quantity]), [[sku.id, 1]]);
  await client.PUT("/api/v1/cart/items/{sku_id}", { params: { path: { sku_id: sku.id } }, body: { quantity: 2 } });
  const cart = await client.GET("/api/v1/cart");
  assert.equal(cart.data.selected_quantity, 2);
  assert.equal(cart.data.selected_total, sku.price * 2);

  const saved = await client.POST("/api/v1/me/addresses", { body: address });
  assert.equal(saved.status, 201);

  // Order from the cart with an Idempotency-Key; the same key and body replay the order.
  const key = newIdempotencyKey();
  const orderInit = { params: { header: { "Idempotency-Key": key } }, body: { from_cart: true, address_id: saved.data.id } };
  const order = await client.POST("/api/v1/orders", orderInit);
  assert.equal(order.status, 201);
  assert.equal(order.data.status, "pending_payment");
  assert.equal(order.data.items_total, sku.price * 2);
  assert.equal(order.header("Idempotent-Replayed"), undefined);
  const replay = await client.POST("/api/v1/orders", orderInit);
  assert.equal(replay.data.id, order.data.id, "a replay answers the first order");
  assert.equal(replay.header("idempotent-replayed"), "true");
  await assert.rejects(
    client.POST("/api/v1/orders", { ...orderInit, body: { ...orderInit.body, remark: "另一个订单" } }),
    (error) => error instanceof ApiError && error.status === 422 && error.code === "idempotency_key_reused",
  );
  const orders = await client.GET("/api/v1/orders");
  assert.deepEqual(orders.data.items.map((o) => o.id), [order.data.id], "one order placed for three requests");
  assert.equal((await client.GET("/api/v1/cart")).data.line_count, 0, "the ordered line left the cart");

  // Pay in the sandbox: start the payment, press Pay on its cashier, wait for the order to be paid.
  const payment = await client.POST("/api/v1/orders/{id}/payments", {
    params: { path: { id: order.data.id }, header: { "Idempotency-Key": newIdempotencyKey() } },
    body: { method: "sandbox" },
  });
  assert.equal(payment.data.status, "pending");
  assert.equal(payment.data.amount, order.data.payable);
  const cashier = new URL(payment.data.pay_url);
  assert.equal(cashier.origin, new URL(baseUrl).origin);
  const [, , , trade, token] = cashier.pathname.split("/");
  const paid = await client.POST("/sandbox/pay/{trade}/{token}/pay", { params: { path: { trade, token } } });
  assert.equal(paid.data.status, "success");
  const paidOrder = await eventually("the order is paid", async () => {
    const current = await client.GET("/api/v1/orders/{id}", { params: { path: { id: order.data.id } } });
    return current.data.status === "paid" ? current.data : undefined;
  });
  assert.equal(paidOrder.payment_id, payment.data.id);
});

test("error codes are typed ApiErrors: 404, 409, 401 and no answer at all", { skip: needsServer }, async () => {
  const { client, credentials } = await registeredClient();

  const missing = await client
    .GET("/api/v1/products/{id}", { params: { path: { id: "1" } } })
    .catch((error) => error);
  assert.ok(missing instanceof ApiError);
  assert.equal(missing.status, 404);
  assert.equal(missing.code, "product_not_found");
  assert.match(missing.requestId, /\S/, "the request id is kept for reports");

  const taken = await client.POST("/api/v1/auth/register", { body: credentials }).catch((error) => error);
  assert.equal(taken.status, 409);
  assert.equal(taken.code, "username_taken");

  const invalid = await client.POST("/api/v1/me/addresses", { body: { ...address, phone: "12" } }).catch((error) => error);
  assert.equal(invalid.status, 400);
  assert.equal(invalid.code, "validation_failed");
  assert.ok(
    invalid.details.fields.some((f) => f.field === "phone"),
    `details list the bad field: ${JSON.stringify(invalid.details)}`,
  );

  const anonymous = createClient({ baseUrl });
  const unauthorized = await anonymous.GET("/api/v1/me").catch((error) => error);
  assert.equal(unauthorized.status, 401);
  assert.equal(unauthorized.code, "missing_token");

  // A port nobody listens on: the client's own code, status 0.
  const nowhere = createClient({ baseUrl: "http://127.0.0.1:9" });
  const unreachable = await nowhere.GET("/api/v1/products").catch((error) => error);
  assert.ok(unreachable instanceof ApiError);
  assert.equal(unreachable.status, 0);
  assert.equal(unreachable.code, "network_error");
});
