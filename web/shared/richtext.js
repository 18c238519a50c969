// Product descriptions are merchant HTML. The server sanitises them on save, and neither page
// trusts that: both the console's editor and the storefront's product page pass the HTML
// through this one allow-list. It is parsed in an inert document (DOMParser: nothing in it
// runs or loads) and rebuilt from a short list of tags without attributes, except an http(s)
// or mailto: href on links and an http(s) or /media/ src (plus alt) on images. Markup the list
// does not know ends up as its plain text or nothing.

const keptTags = new Set(['p', 'br', 'b', 'strong', 'i', 'em', 'u', 's', 'ul', 'ol', 'li', 'h3', 'h4', 'blockquote', 'a', 'img']);
// Wrappers that carry structure under another name: a block is a paragraph (browsers make a
// new line a <div> in contenteditable), and headings go no higher than h3 (the product page
// has its own title).
const renamedTags = { div: 'p', section: 'p', article: 'p', h1: 'h3', h2: 'h3', h5: 'h4', h6: 'h4', strike: 's', del: 's' };
// Elements whose content is not text for people: dropped with everything inside.
const droppedTags = new Set(['script', 'style', 'iframe', 'object', 'embed', 'template', 'noscript', 'svg', 'math', 'head', 'title', 'meta', 'link', 'form', 'button', 'input', 'select', 'textarea']);

// safeLinkHref is url when a description may link to it (http, https, mailto), else ''.
export function safeLinkHref(url) {
  const u = String(url ?? '').trim();
  return /^(https?:\/\/|mailto:)/i.test(u) ? u : '';
}

// safeImageSrc is url when a description may show it (http, https, or this shop's /media/), else ''.
export function safeImageSrc(url) {
  const u = String(url ?? '').trim();
  return /^(https?:\/\/|\/media\/)/i.test(u) ? u : '';
}

function clean(nodes) {
  const out = [];
  for (const node of nodes) {
    if (node.nodeType === Node.TEXT_NODE) {
      if (node.textContent) out.push(node.textContent);
      continue;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) continue;
    const name = node.tagName.toLowerCase();
    if (droppedTags.has(name)) continue;
    const tag = renamedTags[name] || name;
    if (!keptTags.has(tag)) {
      out.push(...clean(node.childNodes)); // span, font…: keep their text
      continue;
    }
    if (tag === 'img') {
      const src = safeImageSrc(node.getAttribute('src'));
      if (src) out.push({ tag, attrs: { src, alt: node.getAttribute('alt') || '' }, children: [] });
      continue;
    }
    const children = tag === 'br' ? [] : clean(node.childNodes);
    if (tag === 'p' && name !== 'p' && !children.length) continue; // an empty wrapper says nothing
    if (tag === 'a') {
      const href = safeLinkHref(node.getAttribute('href'));
      if (!href) {
        out.push(...children); // a link to nowhere safe is its text
        continue;
      }
      out.push({ tag, attrs: { href }, children });
      continue;
    }
    out.push({ tag, attrs: {}, children });
  }
  return out;
}

// richTextTree parses merchant HTML into the allow-listed tree: an array of strings (text) and
// { tag, attrs, children } elements, for a page to build its own elements from.
export function richTextTree(source) {
  if (!source) return [];
  const doc = new DOMParser().parseFromString(`<!doctype html><body>${source}</body>`, 'text/html');
  return clean(doc.body.childNodes);
}

// sanitizeRichText is source reduced to the allow-list, as HTML text ('' when nothing but
// whitespace is left): what the console's editor saves.
export function sanitizeRichText(source) {
  const doc = document.implementation.createHTMLDocument('');
  const box = doc.createElement('div');
  const build = (into, nodes) => {
    for (const n of nodes) {
      if (typeof n === 'string') {
        into.appendChild(doc.createTextNode(n));
        continue;
      }
      const el = doc.createElement(n.tag);
      for (const [k, v] of Object.entries(n.attrs)) el.setAttribute(k, v);
      build(el, n.children);
      into.appendChild(el);
    }
  };
  build(box, richTextTree(source));
  return box.textContent.trim() || box.querySelector('img') ? box.innerHTML : '';
}
