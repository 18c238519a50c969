// 商品分类: the three-level tree with hidden categories; add (top level or under a category),
// rename, move under another parent, reorder, hide or show, delete an empty one.
import { html, useState } from '/ui/vendor/preact-htm.js';
import { formatTime } from '/ui/shared/format.js';
import { api } from '../session.js';
import { Button, Card, Dialog, ErrorAlert, Field, Loading, PageHeader, Tag, Table, confirmAction, toast, toastError, useFormAction } from '../ui.js';
import { useLoad } from '/ui/shared/ui.js';
import { loadCategories } from '../data.js';

const MAX_LEVEL = 3;

// CategoryDialog adds a category (category null) under parentId, or edits one; moving is
// offered only to parents where the category's whole subtree still fits in three levels.
function CategoryDialog({ categories, category, parentId, onClose, onSaved }) {
  const editing = Boolean(category);
  const [form, setForm] = useState(() => ({
    name: category ? category.name : '',
    parent_id: editing ? category.parent_id || '' : parentId || '',
    sort_order: category ? String(category.sort_order) : '0',
    icon_url: category ? category.icon_url || '' : '',
    hidden: category ? category.hidden : false,
  }));
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });

  const descendants = new Set();
  if (editing) {
    const collect = (node) => {
      descendants.add(node.id);
      (node.children || []).forEach(collect);
    };
    collect(category);
  }
  const height = editing ? categories.byId.get(category.id).height : 1;
  const parentChoices = categories.flat.filter((c) => !descendants.has(c.id) && c.level + height <= MAX_LEVEL);

  const [save, busy, errors, failure] = useFormAction(async () => {
    const e = {};
    const name = form.name.trim();
    if (!name) e.name = '请输入分类名称';
    else if (name.length > 30) e.name = '分类名称最多 30 个字';
    if (!/^-?\d+$/.test(form.sort_order.trim()) || Math.abs(Number(form.sort_order)) > 1000000) e.sort_order = '排序须为 -1000000 到 1000000 的整数';
    if (form.icon_url.trim() && !/^(https?:\/\/|\/)\S+$/.test(form.icon_url.trim())) e.icon_url = '请输入 http(s) 链接或 /media/ 路径';
    if (Object.keys(e).length) return e;
    const body = { name, sort_order: Number(form.sort_order), hidden: form.hidden };
    if (form.icon_url.trim()) body.icon_url = form.icon_url.trim();
    // On a PUT an omitted parent keeps the category where it is; "0" moves it to the top.
    if (!editing || form.parent_id !== (category.parent_id || '')) body.parent_id = form.parent_id || '0';
    if (editing) await api.put(`/api/v1/admin/categories/${category.id}`, body);
    else await api.post('/api/v1/admin/categories', body);
    toast('success', editing ? '分类已保存' : '分类已添加');
    onSaved();
  });

  return html`<${Dialog}
    open
    title=${editing ? '编辑分类' : '添加分类'}
    onClose=${onClose}
    footer=${html`<${Button} onClick=${onClose}>取消<//><${Button} kind="primary" busy=${busy} onClick=${save}>保存<//>`}
  >
    ${failure ? html`<${ErrorAlert} error=${failure} shown=${['name', 'parent_id', 'sort_order', 'icon_url', 'hidden']} />` : null}
    <form class="el-form" onSubmit=${(e) => { e.preventDefault(); save(); }} novalidate>
      <${Field} label="名称" required error=${errors.name}>
        <input class="el-input" id="category-name" maxlength="30" value=${form.name} onInput=${set('name')} />
      <//>
      <${Field} label="上级分类" error=${errors.parent_id}>
        <select class="el-select" id="category-parent" value=${form.parent_id} onChange=${set('parent_id')}>
          <option value="">（顶级分类）</option>
          ${parentChoices.map((c) => html`<option key=${c.id} value=${c.id}>${'　'.repeat(c.level - 1)}${c.name}</option>`)}
        </select>
      <//>
      <${Field} label="排序" error=${errors.sort_order} hint="数字越小越靠前">
        <input class="el-input" id="category-sort" inputmode="numeric" value=${form.sort_order} onInput=${set('sort_order')} />
      <//>
      <${Field} label="图标" error=${errors.icon_url}>
        <input class="el-input" id="category-icon" placeholder="选填，https://… 或 /media/…" value=${form.icon_url} onInput=${set('icon_url')} />
      <//>
      <${Field} label="隐藏">
        <label class="checkbox"><input type="checkbox" checked=${form.hidden} onChange=${set('hidden')} />买家看不到此分类及其子分类</label>
      <//>
    </form>
  <//>`;
}

export default function Categories() {
  const cats = useLoad(loadCategories, []);
  const [dialog, setDialog] = useState(null);
  // null until the staff member folds something: then second-level categories start folded,
  // so the 100-odd demo categories fit a screen.
  const [folded, setCollapsed] = useState(null);

  const toggleHidden = async (c) => {
    const body = { name: c.name, sort_order: c.sort_order, hidden: !c.hidden };
    if (c.icon_url) body.icon_url = c.icon_url;
    try {
      await api.put(`/api/v1/admin/categories/${c.id}`, body);
      toast('success', c.hidden ? `已显示「${c.name}」` : `已隐藏「${c.name}」`);
      cats.reload();
    } catch (err) {
      toastError(err);
    }
  };
  const remove = async (c) => {
    if (!(await confirmAction({ title: '删除分类', message: `确定删除分类「${c.path}」吗？`, okText: '删除', danger: true }))) return;
    try {
      await api.del(`/api/v1/admin/categories/${c.id}`);
      toast('success', '分类已删除');
      cats.reload();
    } catch (err) {
      toastError(err);
    }
  };

  if (cats.error) return html`<${ErrorAlert} error=${cats.error} />`;
  if (!cats.data) return html`<${Loading} />`;
  const collapsed = folded || new Set(cats.data.flat.filter((c) => c.level >= 2 && c.children).map((c) => c.id));

  // Rows in tree order, leaving out those under a collapsed category.
  const visible = [];
  const walk = (nodes) => {
    for (const n of nodes || []) {
      visible.push(cats.data.byId.get(n.id));
      if (!collapsed.has(n.id)) walk(n.children);
    }
  };
  walk(cats.data.tree);
  const toggle = (id) =>
    setCollapsed(() => {
      const next = new Set(collapsed);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return html`
    <${PageHeader}
      title="商品分类"
      extra=${html`
        <${Button} onClick=${() => setCollapsed(new Set(cats.data.flat.filter((c) => c.children).map((c) => c.id)))}>全部收起<//>
        <${Button} onClick=${() => setCollapsed(new Set())}>全部展开<//>
        <${Button} kind="primary" onClick=${() => setDialog({ parentId: '' })}>＋ 添加顶级分类<//>`}
    />
    <${Card}>
      <${Table}
        rows=${visible}
        empty="还没有分类"
        columns=${[
          {
            title: '分类名称',
            render: (c) => html`<span class=${`tree-name tree-indent-${c.level}`}>
              <button type="button" class=${`tree-toggle${c.children ? '' : ' tree-toggle--leaf'}`} aria-label=${collapsed.has(c.id) ? `展开 ${c.name}` : `收起 ${c.name}`} onClick=${() => toggle(c.id)}>
                ${collapsed.has(c.id) ? '▸' : '▾'}
              </button>
              ${c.name}
            </span>`,
          },
          { title: '层级', render: (c) => `${c.level} 级` },
          { title: '排序', class: 'num', key: 'sort_order' },
          { title: '状态', render: (c) => (c.hidden ? html`<${Tag} kind="info">隐藏<//>` : html`<${Tag} kind="success">显示<//>`) },
          { title: '更新时间', class: 'small nowrap', render: (c) => formatTime(c.updated_at) },
          {
            title: '操作',
            render: (c) => html`<div class="actions">
              ${c.level < MAX_LEVEL ? html`<${Button} kind="text" size="small" onClick=${() => setDialog({ parentId: c.id })}>添加子分类<//>` : null}
              <${Button} kind="text" size="small" onClick=${() => setDialog({ category: c })}>编辑<//>
              <${Button} kind="text" size="small" onClick=${() => toggleHidden(c)}>${c.hidden ? '显示' : '隐藏'}<//>
              <${Button} kind="text-danger" size="small" onClick=${() => remove(c)}>删除<//>
            </div>`,
          },
        ]}
      />
    <//>
    ${dialog
      ? html`<${CategoryDialog}
          categories=${cats.data}
          category=${dialog.category}
          parentId=${dialog.parentId}
          onClose=${() => setDialog(null)}
          onSaved=${() => {
            setDialog(null);
            cats.reload();
          }}
        />`
      : null}
  `;
}
