import type { components } from "./schema.js";

/** A code the server answers in its error body: the union of components.x-error-codes. */
export type ErrorCode = components["schemas"]["ErrorCode"];

/**
 * Codes the client itself gives when there is no server error body to read:
 * `network_error` when the request got no answer (offline, timeout, refused), and
 * `unexpected_response` when the answer was not the JSON error body of the contract
 * (a proxy's HTML error page, say).
 */
export type ClientErrorCode = "network_error" | "unexpected_response";

export type ErrorDetails = components["schemas"]["ErrorDetails"];

/** Every failed call throws an ApiError: match on `code`, show `message` to people. */
export class ApiError extends Error {
  /** The HTTP status; 0 when no answer came (`network_error`). */
  readonly status: number;
  readonly code: ErrorCode | ClientErrorCode;
  readonly details: ErrorDetails | undefined;
  /** The X-Request-ID of the answer: quote it when reporting a problem. */
  readonly requestId: string | undefined;

  constructor(init: {
    status: number;
    code: ErrorCode | ClientErrorCode;
    message: string;
    details?: ErrorDetails;
    requestId?: string;
  }) {
    super(init.message);
    this.name = "ApiError";
    this.status = init.status;
    this.code = init.code;
    this.details = init.details;
    this.requestId = init.requestId;
    // Compiled to ES5-style classes for old mini-program engines, a subclass of Error loses
    // its prototype unless it is set again here, and `instanceof ApiError` would then fail.
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
