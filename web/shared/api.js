// The storefront's and the console's way to the API. The access token lives in this module's
// memory only; the refresh token is an HttpOnly cookie the server sets when a request says
// `X-Session-Transport: cookie`, so no page script (nor an injected one) can read it. A reload
// asks the server for a new access token with that cookie (restore).
import { messageFor } from './errors.js';
import { withQuery } from './url.js';

// ApiError is every failure a call can end in: an answer of the API with its stable code, or
// network_error / invalid_response when no usable answer came.
export class ApiError extends Error {
  constructor(status, code, message, details, requestId) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details || {};
    this.requestId = requestId || '';
  }
}

// errorMessage gives the text to show for any error a call threw.
export function errorMessage(err) {
  if (err instanceof ApiError) {
    if (err.code === 'rate_limited' || err.code === 'too_many_attempts') {
      const s = err.details.retry_after_seconds;
      if (s) return `${messageFor(err.code)}（${s} 秒后可重试）`;
    }
    return messageFor(err.code, err.message);
  }
  return messageFor('', err && err.message);
}

// fieldErrors maps each field the API refused (validation_failed, unknown_field, wrong_type)
// to its reason, for showing next to the form's inputs.
export function fieldErrors(err) {
  const out = {};
  if (err instanceof ApiError && Array.isArray(err.details.fields)) {
    for (const f of err.details.fields) out[f.field] = f.reason;
  }
  return out;
}

// newIdempotencyKey names one user action (an order, a payment, a refund): retries and double
// clicks of that action send the same key, so the server does it once.
export function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

const kinds = {
  buyer: {
    login: '/api/v1/auth/login',
    register: '/api/v1/auth/register',
    refresh: '/api/v1/auth/refresh',
    logout: '/api/v1/auth/logout',
    me: '/api/v1/me',
    principal: (body) => body.user,
  },
  staff: {
    login: '/api/v1/admin/auth/login',
    refresh: '/api/v1/admin/auth/refresh',
    logout: '/api/v1/admin/auth/logout',
    me: '/api/v1/admin/me',
    principal: (body) => body.staff,
  },
};

// Codes that mean the access token is no good any more (expired or revoked), so a refresh may
// help; any other 401 (say invalid_credentials) is the answer itself.
const staleTokenCodes = new Set(['invalid_token', 'missing_token']);

// createApi builds the client of one audience. onSessionExpired is called when a call needed a
// session and none could be had (the refresh cookie expired or was revoked): the page sends
// the user to log in and back.
export function createApi({ kind, onSessionExpired = () => {} }) {
  const paths = kinds[kind];
  if (!paths) throw new Error(`createApi: unknown kind ${kind}`);
  let accessToken = '';
  let principal = null;
  let refreshing = null;
  const listeners = new Set();

  function setSession(token, who) {
    accessToken = token || '';
    principal = who || null;
    for (const fn of listeners) fn(principal);
  }

  async function send(method, path, { query, body, form, idempotencyKey, cookie = false, auth = true } = {}) {
    const url = query ? withQuery(path, query) : path;
    const headers = { Accept: 'application/json' };
    if (auth && accessToken) headers.Authorization = `Bearer ${accessToken}`;
    if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
    if (cookie) headers['X-Session-Transport'] = 'cookie';
    let payload;
    if (form) {
      payload = form; // the browser sets the multipart boundary
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(url, { method, headers, body: payload, credentials: 'same-origin' });
    } catch (e) {
      throw new ApiError(0, 'network_error', e.message);
    }
    const requestId = res.headers.get('X-Request-ID') || '';
    if (res.status === 204) return null;
    let data = null;
    const text = await res.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        throw new ApiError(res.status, 'invalid_response', `HTTP ${res.status}`, null, requestId);
      }
    }
    if (!res.ok) {
      const e = (data && data.error) || {};
      throw new ApiError(res.status, e.code || 'internal', e.message || `HTTP ${res.status}`, e.details, requestId);
    }
    return data;
  }

  // exchange trades the refresh cookie for a new access token. The cookie's token is single-use
  // and a second use ends the whole login, so every exchange of this page shares one attempt,
  // and pages of one browser (tabs, reloads) take turns through a Web Lock: each then sends
  // the cookie its predecessor left. (Without Web Locks — a page not served over HTTPS or
  // from localhost — only this page's own exchanges are serialised.)
  function exchange() {
    if (!refreshing) {
      const attempt = () => send('POST', paths.refresh, { body: {}, cookie: true, auth: false });
      const locked = globalThis.navigator && navigator.locks
        ? navigator.locks.request(`minimart-refresh-${kind}`, attempt)
        : attempt();
      refreshing = locked
        .then((data) => {
          accessToken = data.tokens.access_token;
          return true;
        })
        .catch((err) => {
          if (err instanceof ApiError && err.status === 401) {
            setSession('', null);
            return false;
          }
          throw err;
        })
        .finally(() => {
          refreshing = null;
        });
    }
    return refreshing;
  }

  async function call(method, path, opts = {}) {
    try {
      return await send(method, path, opts);
    } catch (err) {
      const stale = err instanceof ApiError && err.status === 401 && staleTokenCodes.has(err.code);
      if (!stale || opts.auth === false) throw err;
      if (principal && (await exchange())) return send(method, path, opts);
      setSession('', null);
      onSessionExpired();
      throw err;
    }
  }

  return {
    get: (path, { query } = {}) => call('GET', path, { query }),
    post: (path, body, { idempotencyKey, query } = {}) => call('POST', path, { body: body ?? {}, idempotencyKey, query }),
    put: (path, body, { idempotencyKey } = {}) => call('PUT', path, { body: body ?? {}, idempotencyKey }),
    del: (path) => call('DELETE', path),
    upload(path, file) {
      const form = new FormData();
      form.append('file', file);
      return call('POST', path, { form });
    },
    async login(username, password) {
      const data = await send('POST', paths.login, { body: { username, password }, cookie: true, auth: false });
      setSession(data.tokens.access_token, paths.principal(data));
      return principal;
    },
    async register(body) {
      if (!paths.register) throw new Error('register: buyers only');
      const data = await send('POST', paths.register, { body, cookie: true, auth: false });
      setSession(data.tokens.access_token, paths.principal(data));
      return principal;
    },
    // logout ends the login at the server, which also drops the cookie. If the server cannot
    // be told, the session stays and the error is thrown: clearing only this page would leave
    // the cookie to log the next person at this device back in on reload.
    async logout() {
      try {
        await send('POST', paths.logout, { body: {}, cookie: true });
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 401) throw err;
      }
      setSession('', null);
    },
    // restore picks up the session of an earlier page load from the refresh cookie; null when
    // there is none (never logged in, logged out, or expired).
    // A failure other than "no session" (network, 429, 5xx) is thrown: the user may well be
    // logged in, and the page should offer a retry rather than the login form.
    async restore() {
      if (!(await exchange())) return null;
      try {
        setSession(accessToken, await send('GET', paths.me));
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 401) throw err;
        setSession('', null);
      }
      return principal;
    },
    principal: () => principal,
    // onChange calls fn with the new principal (or null) whenever the session changes; it
    // returns a function that stops the calls.
    onChange(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}
