export { createClient, memoryTokenStore } from "./client.js";
export type { Client, ClientOptions, PathsWithMethod, RequestInit, SuccessResponse, TokenStore, Tokens } from "./client.js";
export { ApiError } from "./errors.js";
export type { ClientErrorCode, ErrorCode, ErrorDetails } from "./errors.js";
export { newIdempotencyKey } from "./idempotency.js";
export { fetchTransport, wxTransport } from "./transport.js";
export type { FetchLike, Transport, TransportOptions, TransportRequest, TransportResponse, WxLike, WxRequestSuccess } from "./transport.js";
export type { components, operations, paths } from "./schema.js";
