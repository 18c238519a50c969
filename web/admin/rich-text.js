// A small rich-text editor for product descriptions: a contenteditable area with buttons for
// bold, italic, lists, links and clearing formatting (document.execCommand, which every
// browser still implements for contenteditable). What it hands back goes through the allow-list
// the storefront shows descriptions with (/ui/shared/richtext.js), so pasted markup never
// carries scripts or inline styles (the page's CSP refuses those); the server sanitises again
// on save.
import { html, useEffect, useRef, useState } from '/ui/vendor/preact-htm.js';
import { sanitizeRichText } from '/ui/shared/richtext.js';

// caretOffset is the caret's position in root counted in characters of its text, and
// placeCaret puts it back there: Chrome moves the caret to the start of a line it turns into a
// list, so the toolbar keeps it where the writer left it.
function caretOffset(root) {
  const sel = getSelection();
  if (!sel.rangeCount || !root.contains(sel.anchorNode)) return -1;
  const range = document.createRange();
  range.selectNodeContents(root);
  range.setEnd(sel.anchorNode, sel.anchorOffset);
  return range.toString().length;
}

function placeCaret(root, offset) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let left = offset;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (left <= node.length) {
      getSelection().collapse(node, left);
      return;
    }
    left -= node.length;
  }
}

const tools = [
  { label: 'B', title: '加粗', command: 'bold', cls: 'rte__btn--bold' },
  { label: 'I', title: '斜体', command: 'italic', cls: 'rte__btn--italic' },
  { label: '• 列表', title: '无序列表', command: 'insertUnorderedList' },
  { label: '1. 列表', title: '有序列表', command: 'insertOrderedList' },
  { label: '小标题', title: '小标题', command: 'formatBlock', value: 'h3' },
  { label: '正文', title: '正文段落', command: 'formatBlock', value: 'p' },
  { label: '清除格式', title: '清除格式', command: 'removeFormat' },
];

// RichTextEditor starts from initialValue and reports every change through onChange; the area
// is not controlled afterwards (rewriting it while typing would move the caret), so a parent
// that loads another value gives the editor a new key.
export function RichTextEditor({ initialValue, onChange, id, placeholder = '在这里输入商品详情' }) {
  const area = useRef(null);
  const savedRange = useRef(null);
  const [linking, setLinking] = useState(false);
  const [linkUrl, setLinkUrl] = useState('https://');
  const [linkError, setLinkError] = useState('');

  useEffect(() => {
    area.current.innerHTML = sanitizeRichText(initialValue);
  }, []);

  const emit = () => onChange(sanitizeRichText(area.current.innerHTML));
  const run = (command, arg) => {
    const root = area.current;
    root.focus();
    const sel = getSelection();
    const collapsed = sel.rangeCount > 0 && sel.getRangeAt(0).collapsed;
    const at = caretOffset(root);
    document.execCommand(command, false, arg);
    if (collapsed && at > 0 && caretOffset(root) !== at) placeCaret(root, at);
    emit();
  };
  const startLink = () => {
    const sel = getSelection();
    savedRange.current = sel.rangeCount && area.current.contains(sel.anchorNode) ? sel.getRangeAt(0).cloneRange() : null;
    setLinkError('');
    setLinkUrl('https://');
    setLinking(true);
  };
  const applyLink = () => {
    const url = linkUrl.trim();
    if (!/^https?:\/\/\S+$/i.test(url)) {
      setLinkError('请输入以 http:// 或 https:// 开头的链接');
      return;
    }
    area.current.focus();
    const sel = getSelection();
    if (savedRange.current) {
      sel.removeAllRanges();
      sel.addRange(savedRange.current);
    }
    if (!savedRange.current || savedRange.current.collapsed) {
      const a = document.createElement('a');
      a.href = url;
      a.textContent = url;
      document.execCommand('insertHTML', false, a.outerHTML);
    } else {
      document.execCommand('createLink', false, url);
    }
    setLinking(false);
    emit();
  };
  const onPaste = (e) => {
    // Pasted rich text brings other sites' markup and inline styles; keep its words only.
    e.preventDefault();
    document.execCommand('insertText', false, e.clipboardData.getData('text/plain'));
  };

  return html`<div class="rte">
    <div class="rte__toolbar" role="toolbar" aria-label="格式">
      ${tools.map(
        (t) => html`<button type="button" key=${t.title} class=${`rte__btn ${t.cls || ''}`} title=${t.title} aria-label=${t.title}
          onMouseDown=${(e) => e.preventDefault()} onClick=${() => run(t.command, t.value)}>${t.label}</button>`,
      )}
      <button type="button" class="rte__btn" title="插入链接" aria-label="插入链接" onMouseDown=${(e) => e.preventDefault()} onClick=${startLink}>链接</button>
      ${linking
        ? html`<span class="row">
            <input class="el-input el-input--small rte__link-input" aria-label="链接地址" value=${linkUrl} onInput=${(e) => setLinkUrl(e.target.value)}
              onKeyDown=${(e) => { if (e.key === 'Enter') { e.preventDefault(); applyLink(); } }} />
            <button type="button" class="el-btn el-btn--primary el-btn--small" onClick=${applyLink}>确定</button>
            <button type="button" class="el-btn el-btn--small" onClick=${() => setLinking(false)}>取消</button>
            ${linkError ? html`<span class="cell-error">${linkError}</span>` : null}
          </span>`
        : null}
    </div>
    <div class="rte__area" id=${id} ref=${area} contenteditable="true" role="textbox" aria-multiline="true" aria-label="商品详情"
      data-placeholder=${placeholder} onInput=${emit} onBlur=${emit} onPaste=${onPaste}></div>
  </div>`;
}
