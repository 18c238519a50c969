// Compile-time tests of the typed calls: `npm run build` type-checks this file first, so a
// call the schema allows that stops compiling, or a wrong call that starts compiling (every
// line marked as an expected error must be one), fails the build. It is never run.
import { ApiError, createClient, type ErrorCode } from "../src/index.js";

const client = createClient({ baseUrl: "http://127.0.0.1:8080" });

export async function typedCalls(): Promise<void> {
  // Path parameters are required and named.
  const product = await client.GET("/api/v1/products/{id}", { params: { path: { id: "1" } } });
  const title: string = product.data.title;
  const stock: number = product.data.skus[0].stock;
  // @ts-expect-error -- the path parameter is required
  await client.GET("/api/v1/products/{id}");
  // @ts-expect-error -- and is called id
  await client.GET("/api/v1/products/{id}", { params: { path: { product_id: "1" } } });
  // @ts-expect-error -- a path the contract does not have
  await client.GET("/api/v1/nowhere");
  // @ts-expect-error -- a method the path does not have
  await client.DELETE("/api/v1/products");

  // Query parameters: q is required by the search.
  await client.GET("/api/v1/search", { params: { query: { q: "手机", page_size: 10 } } });
  // @ts-expect-error -- q is missing
  await client.GET("/api/v1/search", { params: { query: { page_size: 10 } } });
  // A call without required parameters needs no init at all.
  await client.GET("/api/v1/products");

  // Bodies are typed; the order needs its Idempotency-Key header.
  const order = await client.POST("/api/v1/orders", {
    params: { header: { "Idempotency-Key": "k1" } },
    body: { items: [{ sku_id: "1", quantity: 1 }], address_id: "2" },
  });
  const orderNo: string = order.data.order_no;
  // @ts-expect-error -- without the Idempotency-Key
  await client.POST("/api/v1/orders", { body: { items: [{ sku_id: "1", quantity: 1 }], address_id: "2" } });
  // @ts-expect-error -- quantity is a number
  await client.POST("/api/v1/orders", { params: { header: { "Idempotency-Key": "k1" } }, body: { items: [{ sku_id: "1", quantity: "1" }], address_id: "2" } });
  // @ts-expect-error -- the login needs a body
  await client.POST("/api/v1/auth/login");

  // The status tells which answer it is.
  const wechat = await client.POST("/api/v1/auth/wechat", { body: { code: "c" } });
  const created: boolean = wechat.data.created;
  const status: 200 | 201 = wechat.status;
  // A 204 has no data.
  const removed = await client.DELETE("/api/v1/me/addresses/{id}", { params: { path: { id: "1" } } });
  const nothing: undefined = removed.data;

  void [title, stock, orderNo, created, status, nothing];
}

export function typedErrors(error: unknown): string {
  if (error instanceof ApiError) {
    const code: ErrorCode | "network_error" | "unexpected_response" = error.code;
    // @ts-expect-error -- not a code of the contract
    const unknown: typeof error.code = "no_such_code";
    void unknown;
    return code;
  }
  return "";
}
