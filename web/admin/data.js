// What several screens share: Chinese names of the API's states, and the category tree.
import { html } from '/ui/vendor/preact-htm.js';
import { api } from './session.js';
import { Tag } from './ui.js';

export const orderStatus = {
  pending_payment: ['待付款', 'warning'],
  paid: ['待发货', 'primary'],
  shipped: ['已发货', 'primary'],
  completed: ['已完成', 'success'],
  cancelled: ['已取消', 'info'],
  refunding: ['退款中', 'danger'],
  refunded: ['已退款', 'info'],
};

export const paymentStatus = { pending: ['待支付', 'warning'], succeeded: ['已支付', 'success'], closed: ['已关闭', 'info'] };
export const refundStatus = { pending: ['处理中', 'warning'], succeeded: ['已退款', 'success'], failed: ['失败', 'danger'] };
export const productStatus = { on_shelf: ['在售', 'success'], off_shelf: ['已下架', 'info'] };
export const staffStatus = { active: ['启用', 'success'], disabled: ['已停用', 'danger'] };
export const staffRole = { admin: ['管理员', 'danger'], operator: ['运营', 'primary'] };
export const notifyOutcome = {
  applied: ['已处理', 'success'],
  duplicate: ['重复', 'info'],
  ignored: ['已忽略', 'info'],
  rejected: ['已拒绝', 'danger'],
  error: ['出错', 'warning'],
};
export const flashSaleStatus = {
  pending: ['准备中', 'info'],
  upcoming: ['未开始', 'primary'],
  active: ['进行中', 'success'],
  ended: ['已结束', 'info'],
  cancelled: ['已取消', 'info'],
  failed: ['失败', 'danger'],
};

export const providerName = { wechat: '微信支付', alipay: '支付宝', sandbox: '沙箱' };
export const methodName = {
  wechat_jsapi: '微信小程序',
  wechat_native: '微信扫码',
  alipay_wap: '支付宝手机网站',
  alipay_page: '支付宝电脑网站',
  alipay_qr: '支付宝扫码',
  sandbox: '沙箱收银台',
};

// StatusTag renders a state with its name and colour from one of the maps above.
export function StatusTag({ map, value }) {
  const [label, kind] = map[value] || [value, 'info'];
  return html`<${Tag} kind=${kind}>${label}<//>`;
}

// loadCategories answers the staff category tree with a flat list in tree order, each entry
// carrying its path ("数码 / 手机 / 智能手机"), level, parent and subtree height.
export async function loadCategories() {
  const tree = await api.get('/api/v1/admin/categories');
  const flat = [];
  const walk = (nodes, parentPath) => {
    let height = 0;
    for (const node of nodes || []) {
      const path = parentPath ? `${parentPath} / ${node.name}` : node.name;
      const entry = { ...node, path, height: 1 };
      flat.push(entry);
      entry.height = 1 + walk(node.children, path);
      height = Math.max(height, entry.height);
    }
    return height;
  };
  walk(tree.items, '');
  return { tree: tree.items, flat, byId: new Map(flat.map((c) => [c.id, c])) };
}

// CategorySelect passes aria-* attributes on to its <select> (a Field's error links).
export function CategorySelect({ categories, value, onChange, placeholder = '全部分类', id, exclude, ...aria }) {
  return html`<select class="el-select" id=${id} value=${value || ''} onChange=${(e) => onChange(e.target.value)} ...${aria}>
    <option value="">${placeholder}</option>
    ${categories.flat
      .filter((c) => !exclude || !exclude(c))
      .map((c) => html`<option key=${c.id} value=${c.id}>${'　'.repeat(c.level - 1)}${c.name}${c.hidden ? '（隐藏）' : ''}</option>`)}
  </select>`;
}
