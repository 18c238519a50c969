// Hash routing: "#/orders/123?status=paid" is the path "/orders/123" with its query. The
// server serves one page for /admin/, so every screen (and a reload of it) lives in the hash,
// filters included, and the browser's back button walks through them.
import { useEffect, useState } from '/ui/vendor/preact-htm.js';
import { withQuery } from '/ui/shared/url.js';

function currentRoute() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const at = raw.indexOf('?');
  const path = (at < 0 ? raw : raw.slice(0, at)) || '/';
  const query = Object.fromEntries(new URLSearchParams(at < 0 ? '' : raw.slice(at + 1)));
  return { path, query, full: raw };
}

// href builds a link to path with the query's non-empty values.
export function href(path, query = {}) {
  return `#${withQuery(path, query)}`;
}

// navigate goes to path; replace keeps the current entry out of the history (redirects).
export function navigate(path, query = {}, { replace = false } = {}) {
  const target = href(path, query);
  if (target === location.hash) return;
  if (replace) location.replace(target);
  else location.hash = target;
}

// matchPath matches "/orders/:id" against "/orders/123" → { id: "123" }, or null.
export function matchPath(pattern, path) {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const params = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(':')) {
      if (!got[i]) return null;
      params[want[i].slice(1)] = decodeURIComponent(got[i]);
    } else if (want[i] !== got[i]) {
      return null;
    }
  }
  return params;
}

export function useRoute() {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}
