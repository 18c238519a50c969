// Product descriptions are merchant HTML: reduced to the shared allow-list (web/shared/
// richtext.js, the one the console's editor saves with) and built as Preact elements. No
// string ever reaches innerHTML.
import { h } from '/ui/vendor/preact-htm.js';
import { richTextTree } from '/ui/shared/richtext.js';

// hideBrokenImage hides a description image that does not load (the demo catalog's images
// live on a host this shop does not serve) instead of leaving a broken-image icon in the text.
function hideBrokenImage(e) {
  e.currentTarget.classList.add('img-broken');
}

function build(nodes) {
  return nodes.map((n) => {
    if (typeof n === 'string') return n;
    if (n.tag === 'img') return h('img', { ...n.attrs, loading: 'lazy', onError: hideBrokenImage });
    if (n.tag === 'a') return h('a', { ...n.attrs, rel: 'noopener noreferrer nofollow', target: '_blank' }, build(n.children));
    return h(n.tag, null, n.tag === 'br' ? null : build(n.children));
  });
}

// richText renders merchant HTML as Preact children.
export function richText(source) {
  return source ? build(richTextTree(source)) : null;
}
