import type { components, paths } from "./schema.js";
import { ApiError, type ErrorCode } from "./errors.js";
import { fetchTransport, type Transport, type TransportRequest, type TransportResponse } from "./transport.js";

/** The token pair of a session, as the server hands it out. */
export type Tokens = components["schemas"]["Tokens"];

/**
 * Where the session's tokens live between calls: memory (the default), wx storage in a
 * mini-program, whatever the app chooses. The client reads it before every call and writes it
 * when a login, registration or refresh answers new tokens; `set(null)` ends the session.
 */
export interface TokenStore {
  get(): Tokens | null | Promise<Tokens | null>;
  set(tokens: Tokens | null): void | Promise<void>;
}

/** Keeps the tokens in memory only: a reload or restart logs the user out. */
export function memoryTokenStore(initial: Tokens | null = null): TokenStore {
  let tokens = initial;
  return {
    get: () => tokens,
    set: (next) => {
      tokens = next;
    },
  };
}

export interface ClientOptions {
  /** Where the shop is, e.g. "https://shop.example.com"; call paths start with /api/v1. */
  baseUrl: string;
  /** Default: fetchTransport(). In a mini-program: wxTransport(wx). */
  transport?: Transport;
  /** Default: memoryTokenStore(). */
  tokenStore?: TokenStore;
  /**
   * Called once when the session ends against the user's will: its refresh token was refused
   * (expired, revoked, or reused elsewhere). The tokens are already cleared; log in again.
   */
  onSessionExpired?: (error: ApiError) => void;
}

type Method = "get" | "put" | "post" | "delete" | "patch";

/** The paths that have an operation for method M. */
export type PathsWithMethod<M extends Method> = {
  [P in keyof paths]: paths[P] extends { [K in M]: object } ? P : never;
}[keyof paths];

type OperationOf<P extends keyof paths, M extends Method> = paths[P] extends { [K in M]: infer Op } ? Op : never;

type RequiredKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? never : K }[keyof T];

// Path, query and header parameters exactly as the schema declares them: a required section
// (a path id, a required Idempotency-Key) must be given, an absent one is `never`.
type ParamsOf<Op> = Op extends { parameters: infer Params } ? Omit<Params, "cookie"> : {};
type ParamsInit<Op> = [RequiredKeys<ParamsOf<Op>>] extends [never] ? { params?: ParamsOf<Op> } : { params: ParamsOf<Op> };

// Only JSON request bodies are covered: the one multipart operation (staff image upload)
// cannot be called through this client.
type JsonBodyOf<RB> = RB extends { content: { "application/json": infer Body } } ? Body : never;
type BodyInit<Op> = Op extends { requestBody: infer RB }
  ? [JsonBodyOf<RB>] extends [never]
    ? { body?: never }
    : { body: JsonBodyOf<RB> }
  : Op extends { requestBody?: infer RB }
    ? [RB] extends [never | undefined]
      ? { body?: never }
      : { body?: JsonBodyOf<NonNullable<RB>> }
    : { body?: never };

/** What a call takes besides its path: `params` and `body`, each typed by the operation. */
export type RequestInit<Op> = ParamsInit<Op> & BodyInit<Op>;

type InitArgs<Op> = [RequiredKeys<RequestInit<Op>>] extends [never] ? [init?: RequestInit<Op>] : [init: RequestInit<Op>];

type SuccessStatus = 200 | 201 | 202 | 204;
type ResponsesOf<Op> = Op extends { responses: infer Responses } ? Responses : never;
// JSON answers are parsed; other content (the contract's YAML, HTML pages) is its text; an
// answer without content (204) is undefined.
type DataOf<Response> = Response extends { content: { "application/json": infer Data } }
  ? Data
  : Response extends { content: object }
    ? string
    : undefined;

/**
 * A successful answer: one member per success status the operation declares, so
 * `status` tells which `data` it is (200 and 201 of the WeChat login, say).
 */
export type SuccessResponse<Op> = {
  [S in keyof ResponsesOf<Op> & SuccessStatus]: {
    status: S;
    data: DataOf<ResponsesOf<Op>[S]>;
    /** A header of the answer (any case), e.g. header("Idempotent-Replayed"). */
    header(name: string): string | undefined;
  };
}[keyof ResponsesOf<Op> & SuccessStatus];

type Call<M extends Method> = <P extends PathsWithMethod<M>>(
  path: P,
  ...init: InitArgs<OperationOf<P, M>>
) => Promise<SuccessResponse<OperationOf<P, M>>>;

export interface Client {
  GET: Call<"get">;
  POST: Call<"post">;
  PUT: Call<"put">;
  DELETE: Call<"delete">;
  PATCH: Call<"patch">;
}

// Codes that mean "the access token did not do": a refresh may mend them.
const refreshableCodes: ReadonlySet<string> = new Set<ErrorCode>(["invalid_token", "missing_token"]);
const refreshPath = "/api/v1/auth/refresh";

interface UntypedInit {
  params?: { path?: Record<string, unknown>; query?: Record<string, unknown>; header?: Record<string, unknown> };
  body?: unknown;
}

/**
 * Creates a client. Calls look like `client.GET("/api/v1/products/{id}", { params: { path: { id } } })`;
 * paths, parameters, bodies and answers are typed from api/openapi.yaml. A call resolves with the
 * answer when its status is 2xx and throws an ApiError otherwise.
 *
 * Sessions: a successful answer that carries `tokens` (registration, logins, refresh) is stored
 * in the token store, and POST …/auth/logout clears it. Calls send the stored access token; when
 * it is refused (401 invalid_token or missing_token), the client trades the refresh token for
 * a new pair once, stores it and repeats the call. Concurrent calls share that one refresh:
 * a refresh token is single-use, and presenting it twice would end the whole login.
 */
export function createClient(options: ClientOptions): Client {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const transport = options.transport ?? fetchTransport();
  const store = options.tokenStore ?? memoryTokenStore();
  let refreshing: Promise<boolean> | null = null;
  let endedAccessToken: string | undefined;

  async function call(method: TransportRequest["method"], path: string, init: UntypedInit = {}) {
    const request = buildRequest(baseUrl, method, path, init);
    const sentTokens = await store.get();
    let response = await send(request, sentTokens);
    if (response.status === 401 && path !== refreshPath && refreshableCodes.has(errorCode(response))) {
      if (await renewSession(sentTokens, toApiError(response))) {
        response = await send(request, await store.get());
      }
    }
    if (response.status < 200 || response.status >= 300) {
      throw toApiError(response);
    }
    const data = parseBody(response);
    if (method === "POST" && isAuthPath(path)) {
      await keepSession(path, data);
    }
    return {
      status: response.status,
      data,
      header: (name: string) => response.headers[name.toLowerCase()],
    };
  }

  async function send(request: TransportRequest, tokens: Tokens | null): Promise<TransportResponse> {
    const headers = { ...request.headers };
    if (tokens?.access_token && headers.Authorization === undefined) {
      headers.Authorization = `Bearer ${tokens.access_token}`;
    }
    try {
      return await transport({ ...request, headers });
    } catch (cause) {
      throw new ApiError({
        status: 0,
        code: "network_error",
        message: `${request.method} ${request.url}: no answer (${cause instanceof Error ? cause.message : String(cause)})`,
      });
    }
  }

  // renewSession makes the stored session usable after the server refused the access token of
  // sentTokens. True: try again with the stored tokens. False: there is no session (any more).
  async function renewSession(sentTokens: Tokens | null, refused: ApiError): Promise<boolean> {
    const current = await store.get();
    if (!current) {
      return false;
    }
    if (current.access_token !== sentTokens?.access_token) {
      return true; // another call refreshed while this one was on its way
    }
    if (!current.refresh_token) {
      await endSession(current, refused);
      return false;
    }
    if (!refreshing) {
      refreshing = refresh(current).finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  }

  async function refresh(current: Tokens): Promise<boolean> {
    const request = buildRequest(baseUrl, "POST", refreshPath, { body: { refresh_token: current.refresh_token } });
    const response = await send(request, null);
    if (response.status === 200) {
      await keepSession(refreshPath, parseBody(response));
      return true;
    }
    const error = toApiError(response);
    if (response.status === 401 || response.status === 404) {
      // The refresh token is expired, revoked or reused, or the staff account is gone: the
      // session cannot be saved. Anything else (rate limit, a server down) keeps the tokens
      // for a later try and fails this call with that error.
      await endSession(current, error);
      return false;
    }
    throw error;
  }

  // endSession clears the tokens and tells the app, once per session however many calls
  // found it over: the check and the mark happen before any await.
  async function endSession(tokens: Tokens, error: ApiError) {
    if (endedAccessToken === tokens.access_token) {
      return;
    }
    endedAccessToken = tokens.access_token;
    await store.set(null);
    options.onSessionExpired?.(error);
  }

  async function keepSession(path: string, data: unknown) {
    if (/\/logout$/.test(path)) {
      await store.set(null);
      return;
    }
    const tokens = (data as { tokens?: Tokens } | undefined)?.tokens;
    if (tokens?.access_token) {
      await store.set(tokens);
    }
  }

  const bind = (method: TransportRequest["method"]) => (path: string, init?: UntypedInit) => call(method, path, init);
  // The typed signatures are checked where they are declared (Client); the untyped
  // implementation behind them is the same for every path.
  return {
    GET: bind("GET"),
    POST: bind("POST"),
    PUT: bind("PUT"),
    DELETE: bind("DELETE"),
    PATCH: bind("PATCH"),
  } as unknown as Client;
}

function isAuthPath(path: string): boolean {
  return path.startsWith("/api/v1/auth/") || path.startsWith("/api/v1/admin/auth/");
}

function buildRequest(baseUrl: string, method: TransportRequest["method"], path: string, init: UntypedInit): TransportRequest {
  const pathParams = init.params?.path ?? {};
  const filled = path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = pathParams[name];
    if (value === undefined || value === null || value === "") {
      throw new TypeError(`${method} ${path}: path parameter "${name}" is missing`);
    }
    return encodeURIComponent(String(value));
  });
  const headers: Record<string, string> = { Accept: "application/json" };
  for (const [name, value] of Object.entries(init.params?.header ?? {})) {
    if (value !== undefined && value !== null) {
      headers[name] = String(value);
    }
  }
  const request: TransportRequest = { method, url: baseUrl + filled + queryString(init.params?.query), headers };
  if (init.body !== undefined) {
    headers["Content-Type"] = "application/json";
    request.body = JSON.stringify(init.body);
  }
  return request;
}

// queryString encodes by hand: mini-programs have no URLSearchParams. Arrays repeat the name
// (form style, explode), the OpenAPI default.
function queryString(query: Record<string, unknown> | undefined): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null) {
        parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(item))}`);
      }
    }
  }
  return parts.length ? `?${parts.join("&")}` : "";
}

function isJson(response: TransportResponse): boolean {
  return /^application\/(?:[\w.+-]*\+)?json\b/i.test(response.headers["content-type"] ?? "");
}

function parseBody(response: TransportResponse): unknown {
  if (response.body === "") {
    return undefined;
  }
  if (!isJson(response)) {
    return response.body;
  }
  try {
    return JSON.parse(response.body);
  } catch {
    throw new ApiError({
      status: response.status,
      code: "unexpected_response",
      message: `the answer says it is JSON but is not: ${response.body.slice(0, 200)}`,
      requestId: response.headers["x-request-id"],
    });
  }
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; details?: unknown };
}

function errorBody(response: TransportResponse): ErrorBody["error"] | undefined {
  if (!isJson(response)) {
    return undefined;
  }
  try {
    return (JSON.parse(response.body) as ErrorBody | null)?.error;
  } catch {
    return undefined;
  }
}

function errorCode(response: TransportResponse): string {
  const code = errorBody(response)?.code;
  return typeof code === "string" ? code : "";
}

function toApiError(response: TransportResponse): ApiError {
  const requestId = response.headers["x-request-id"];
  const body = errorBody(response);
  if (typeof body?.code !== "string" || typeof body.message !== "string") {
    return new ApiError({
      status: response.status,
      code: "unexpected_response",
      message: `HTTP ${response.status} without the JSON error body: ${response.body.slice(0, 200)}`,
      requestId,
    });
  }
  return new ApiError({
    status: response.status,
    code: body.code as ErrorCode,
    message: body.message,
    details: body.details as ApiError["details"],
    requestId,
  });
}
