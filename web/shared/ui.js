// UI pieces the storefront and the console both use: an image that never shows a broken-image
// icon, and the hook that loads a screen's data.
import { html, useCallback, useEffect, useRef, useState } from '/ui/vendor/preact-htm.js';

// Img shows an image in a frame (class "img img-placeholder", plus cls) whose neutral
// placeholder is all that shows until the image has loaded, and when there is no src or it
// fails to load (the demo catalog's images live on a host this shop does not serve). The
// loaded <img> gets class "loaded". An empty alt marks the image as decoration (a thumbnail
// next to the title it shows); with an alt, the frame is labelled when it shows no image.
// Styles (each page's CSS): .img-placeholder is the placeholder's look, .img img starts
// transparent and .img img.loaded opaque.
export function Img({ src, alt = '', class: cls = '' }) {
  const [state, setState] = useState('loading');
  useEffect(() => setState('loading'), [src]);
  const frame = `img img-placeholder ${cls}`.trim();
  const label = alt ? { role: 'img', 'aria-label': alt } : { 'aria-hidden': 'true' };
  if (!src || state === 'failed') return html`<span class=${frame} ...${label}></span>`;
  return html`<span class=${frame}>
    <img src=${src} alt=${alt} loading="lazy" decoding="async" class=${state === 'loaded' ? 'loaded' : ''}
      onLoad=${() => setState('loaded')} onError=${() => setState('failed')} />
  </span>`;
}

// useLoad runs load() when deps change and gives { loading, data, error, reload, setData }.
// A result that arrives after the deps changed again (the user moved on) is dropped. reload()
// loads again and keeps showing the last data meanwhile (and when the reload fails, next to the
// error); setData replaces the data with what a write answered (the cart answers the whole
// cart, say).
export function useLoad(load, deps) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  const generation = useRef(0);
  const run = useCallback((keep) => {
    const mine = ++generation.current;
    setState((s) => ({ loading: true, data: keep ? s.data : null, error: null }));
    load().then(
      (data) => mine === generation.current && setState({ loading: false, data, error: null }),
      (error) => mine === generation.current && setState((s) => ({ loading: false, data: keep ? s.data : null, error })),
    );
  }, deps);
  useEffect(() => {
    run(false);
    return () => {
      generation.current++;
    };
  }, [run]);
  const reload = useCallback(() => run(true), [run]);
  const setData = useCallback((data) => {
    generation.current++; // a load still out would overwrite what the write answered
    setState({ loading: false, data, error: null });
  }, []);
  return { ...state, reload, setData };
}
