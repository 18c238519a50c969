/**
 * A transport sends one HTTP request and resolves with the answer, whatever its status; it
 * rejects only when no answer came. The client builds the URL, headers and JSON body, so a
 * transport needs nothing beyond its platform's HTTP call: this is what lets one client run
 * on fetch (browsers, Node ≥ 18) and on wx.request (mini-programs, which have no fetch,
 * Request, Response, Headers or URLSearchParams).
 */
export type Transport = (request: TransportRequest) => Promise<TransportResponse>;

export interface TransportRequest {
  method: "GET" | "PUT" | "POST" | "DELETE" | "PATCH";
  url: string;
  headers: Record<string, string>;
  /** The JSON text of the body, if the call has one. */
  body?: string;
}

export interface TransportResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
}

export interface TransportOptions {
  /** Give up on a request after this many milliseconds; default 30 000. */
  timeoutMs?: number;
}

const defaultTimeoutMs = 30_000;

/** The part of fetch the transport uses, so this package needs no DOM type library. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: unknown },
) => Promise<{
  status: number;
  headers: { forEach(callback: (value: string, name: string) => void): void };
  text(): Promise<string>;
}>;

/** Sends requests with fetch: the global one unless `fetch` is given. */
export function fetchTransport(options: TransportOptions & { fetch?: FetchLike } = {}): Transport {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  return async (request) => {
    const send = options.fetch ?? (globalThis as { fetch?: FetchLike }).fetch;
    if (!send) {
      throw new Error("fetchTransport: this platform has no fetch; pass one, or use wxTransport in a mini-program");
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await send(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal: controller.signal,
      });
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        headers[name.toLowerCase()] = value;
      });
      return { status: response.status, headers, body: await response.text() };
    } finally {
      clearTimeout(timer);
    }
  };
}

/** What wx.request passes to its success callback. */
export interface WxRequestSuccess {
  statusCode: number;
  header: Record<string, string>;
  data: unknown;
}

/** The part of the mini-program `wx` object the transport uses. */
export interface WxLike {
  request(options: {
    url: string;
    method: TransportRequest["method"];
    header: Record<string, string>;
    data?: string;
    dataType: string;
    responseType: "text";
    timeout: number;
    success(result: WxRequestSuccess): void;
    fail(error: { errMsg: string }): void;
  }): unknown;
}

/** Sends requests with wx.request, for WeChat mini-programs. */
export function wxTransport(wx: WxLike, options: TransportOptions = {}): Transport {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  return (request) =>
    new Promise((resolve, reject) => {
      wx.request({
        url: request.url,
        method: request.method,
        header: request.headers,
        data: request.body,
        // Any dataType but "json" hands the body over as text: the client parses it, the same
        // way for every transport, and can tell a JSON error body from a proxy's HTML page.
        dataType: "text",
        responseType: "text",
        timeout: timeoutMs,
        success(result) {
          const headers: Record<string, string> = {};
          for (const name of Object.keys(result.header ?? {})) {
            headers[name.toLowerCase()] = String(result.header[name]);
          }
          const body = typeof result.data === "string" ? result.data : result.data == null ? "" : JSON.stringify(result.data);
          resolve({ status: result.statusCode, headers, body });
        },
        fail(error) {
          reject(new Error(error.errMsg));
        },
      });
    });
}
