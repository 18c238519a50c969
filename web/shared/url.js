// Query strings and the places a page may send the user to, for the storefront and the console.

// queryString renders params' non-empty values (undefined, null and '' are left out) as
// "a=1&b=x", without the "?".
export function queryString(params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  return q.toString();
}

// withQuery appends params' non-empty values to path: withQuery('/search', { q: '手机' }).
export function withQuery(path, params = {}) {
  const s = queryString(params);
  if (!s) return path;
  return `${path}${path.includes('?') ? '&' : '?'}${s}`;
}

// localTarget accepts a "next" route (after logging in) only when it is a path of this page
// ("/orders/1", not "//evil.example" nor a full URL) and not the login or register form itself
// (which would loop); anything else is fallback. A crafted link cannot send the user elsewhere.
export function localTarget(next, fallback = '/') {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.includes('\\')) return fallback;
  if (/^\/(login|register)(?:[/?]|$)/.test(next)) return fallback;
  return next;
}

// safeRedirectUrl is url, resolved, when the page may send the browser there (a payment
// provider's cashier): https anywhere, or http(s) on this page's own origin; otherwise ''.
// It keeps a tampered answer from sending the user to javascript: or a plain-http phishing page.
export function safeRedirectUrl(url) {
  if (typeof url !== 'string' || !url.trim()) return '';
  let u;
  try {
    u = new URL(url, location.href);
  } catch {
    return '';
  }
  if (u.protocol === 'https:') return u.href;
  if (u.protocol === 'http:' && u.origin === location.origin) return u.href;
  return '';
}
