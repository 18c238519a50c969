// 员工 (administrators): staff accounts; add one, change its role, set a new password,
// disable / enable or delete it. The API keeps the last administrator and refuses changes to
// one's own account; the console does not offer those.
import { html, useState } from '/ui/vendor/preact-htm.js';
import { formatTime } from '/ui/shared/format.js';
import { passwordProblem } from '/ui/shared/password.js';
import { api } from '../session.js';
import { Button, Card, CursorPager, Dialog, ErrorAlert, Field, PageHeader, Table, confirmAction, toast, toastError, useAction, useFormAction, useCursorPages, serverFieldErrors } from '../ui.js';
import { useLoad } from '/ui/shared/ui.js';
import { StatusTag, staffRole, staffStatus } from '../data.js';

function CreateDialog({ onClose, onDone }) {
  const [form, setForm] = useState({ username: '', password: '', role: 'operator' });
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  const [create, busy, errors, failure] = useFormAction(async () => {
    const e = {};
    const username = form.username.trim();
    if (!username) e.username = '请输入用户名';
    else if ([...username].length < 3 || [...username].length > 32) e.username = '用户名须为 3 到 32 个字符';
    else if (/^\d+$/.test(username)) e.username = '用户名不能全是数字';
    const pw = passwordProblem(form.password, username);
    if (pw) e.password = pw;
    if (Object.keys(e).length) return e;
    const s = await api.post('/api/v1/admin/staff', { username, password: form.password, role: form.role });
    toast('success', `已添加员工 ${s.username}`);
    onDone();
  });
  return html`<${Dialog}
    open
    title="添加员工"
    onClose=${onClose}
    footer=${html`<${Button} onClick=${onClose}>取消<//><${Button} kind="primary" busy=${busy} onClick=${create}>添加<//>`}
  >
    ${failure ? html`<${ErrorAlert} error=${failure} shown=${['username', 'password', 'role']} />` : null}
    <form class="el-form" novalidate onSubmit=${(e) => { e.preventDefault(); create(); }}>
      <${Field} label="用户名" required error=${errors.username}>
        <input class="el-input" name="username" autocomplete="off" maxlength="32" value=${form.username} onInput=${set('username')} />
      <//>
      <${Field} label="初始密码" required error=${errors.password} hint="8 到 72 位，含字母和数字，不能包含用户名">
        <input class="el-input" name="password" type="password" autocomplete="new-password" value=${form.password} onInput=${set('password')} />
      <//>
      <${Field} label="角色" required>
        <select class="el-select" name="role" value=${form.role} onChange=${set('role')}>
          <option value="operator">运营（商品、库存、订单）</option>
          <option value="admin">管理员（全部权限）</option>
        </select>
      <//>
    </form>
  <//>`;
}

function RoleDialog({ account, onClose, onDone }) {
  const [role, setRole] = useState(account.role);
  const [failure, setFailure] = useState(null);
  const [save, busy] = useAction(async () => {
    try {
      await api.put(`/api/v1/admin/staff/${account.id}/role`, { role });
      toast('success', `${account.username} 现在是${staffRole[role][0]}`);
      onDone();
    } catch (err) {
      setFailure(err);
    }
  });
  return html`<${Dialog}
    open
    width="sm"
    title=${`修改角色：${account.username}`}
    onClose=${onClose}
    footer=${html`<${Button} onClick=${onClose}>取消<//><${Button} kind="primary" busy=${busy} onClick=${save}>保存<//>`}
  >
    ${failure ? html`<${ErrorAlert} error=${failure} />` : null}
    <${Field} label="角色">
      <select class="el-select" name="role" value=${role} onChange=${(e) => setRole(e.target.value)}>
        <option value="operator">运营</option>
        <option value="admin">管理员</option>
      </select>
    <//>
  <//>`;
}

function PasswordDialog({ account, onClose, onDone }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [failure, setFailure] = useState(null);
  const [save, busy] = useAction(async () => {
    const problem = passwordProblem(password, account.username);
    setError(problem);
    setFailure(null);
    if (problem) return;
    try {
      await api.put(`/api/v1/admin/staff/${account.id}/password`, { password });
      toast('success', `已重置 ${account.username} 的密码，其登录需重新进行`);
      onDone();
    } catch (err) {
      setError(serverFieldErrors(err).password || '');
      setFailure(err);
    }
  });
  return html`<${Dialog}
    open
    width="sm"
    title=${`重置密码：${account.username}`}
    onClose=${onClose}
    footer=${html`<${Button} onClick=${onClose}>取消<//><${Button} kind="primary" busy=${busy} onClick=${save}>重置<//>`}
  >
    ${failure ? html`<${ErrorAlert} error=${failure} shown=${['password']} />` : null}
    <form class="el-form" novalidate onSubmit=${(e) => { e.preventDefault(); save(); }}>
      <${Field} label="新密码" required error=${error} hint="保存后该员工的所有登录失效">
        <input class="el-input" name="password" type="password" autocomplete="new-password" value=${password} onInput=${(e) => setPassword(e.target.value)} />
      <//>
    </form>
  <//>`;
}

export default function Staff({ staff: me }) {
  const pages = useCursorPages();
  const list = useLoad(() => api.get('/api/v1/admin/staff', { query: { cursor: pages.cursor, limit: 20 } }), [pages.cursor]);
  const [dialog, setDialog] = useState(null);
  const done = () => {
    setDialog(null);
    list.reload();
  };
  const setEnabled = async (s, enable) => {
    if (!enable && !(await confirmAction({ title: '停用账号', message: `停用后 ${s.username} 将无法登录，已有登录立即失效。确定停用吗？`, okText: '停用', danger: true }))) return;
    try {
      await api.post(`/api/v1/admin/staff/${s.id}/${enable ? 'enable' : 'disable'}`);
      toast('success', enable ? `已启用 ${s.username}` : `已停用 ${s.username}`);
      list.reload();
    } catch (err) {
      toastError(err);
    }
  };
  const remove = async (s) => {
    if (!(await confirmAction({ title: '删除账号', message: `确定删除 ${s.username} 吗？审计日志仍会保留其操作记录。`, okText: '删除', danger: true }))) return;
    try {
      await api.del(`/api/v1/admin/staff/${s.id}`);
      toast('success', `已删除 ${s.username}`);
      list.reload();
    } catch (err) {
      toastError(err);
    }
  };
  return html`
    <${PageHeader} title="员工" extra=${html`<${Button} kind="primary" onClick=${() => setDialog({ kind: 'create' })}>＋ 添加员工<//>`} />
    <${Card}>
      ${list.error ? html`<${ErrorAlert} error=${list.error} />` : null}
      <${Table}
        loading=${list.loading}
        rows=${list.data ? list.data.items : []}
        empty="没有员工"
        columns=${[
          { title: '用户名', render: (s) => html`${s.username}${s.id === me.id ? html` <span class="muted small">（我）</span>` : null}` },
          { title: '角色', render: (s) => html`<${StatusTag} map=${staffRole} value=${s.role} />` },
          { title: '状态', render: (s) => html`<${StatusTag} map=${staffStatus} value=${s.status} />` },
          { title: '创建时间', class: 'small nowrap', render: (s) => formatTime(s.created_at) },
          {
            title: '操作',
            render: (s) =>
              s.id === me.id
                ? html`<span class="muted small">不能修改自己的账号</span>`
                : html`<div class="actions">
                    <${Button} kind="text" size="small" onClick=${() => setDialog({ kind: 'role', account: s })}>改角色<//>
                    <${Button} kind="text" size="small" onClick=${() => setDialog({ kind: 'password', account: s })}>重置密码<//>
                    ${s.status === 'active'
                      ? html`<${Button} kind="text" size="small" onClick=${() => setEnabled(s, false)}>停用<//>`
                      : html`<${Button} kind="text" size="small" onClick=${() => setEnabled(s, true)}>启用<//>`}
                    <${Button} kind="text-danger" size="small" onClick=${() => remove(s)}>删除<//>
                  </div>`,
          },
        ]}
      />
      <${CursorPager} pages=${pages} nextCursor=${list.data && list.data.next_cursor} />
    <//>
    ${dialog && dialog.kind === 'create' ? html`<${CreateDialog} onClose=${() => setDialog(null)} onDone=${done} />` : null}
    ${dialog && dialog.kind === 'role' ? html`<${RoleDialog} account=${dialog.account} onClose=${() => setDialog(null)} onDone=${done} />` : null}
    ${dialog && dialog.kind === 'password' ? html`<${PasswordDialog} account=${dialog.account} onClose=${() => setDialog(null)} onDone=${done} />` : null}
  `;
}
