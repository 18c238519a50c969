// The console's one API client (staff tokens). When the session is gone for good (refresh
// cookie expired or revoked, or the account disabled or deleted by an administrator), the
// staff member is sent to log in and comes back to the screen they were on.
import { createApi, ApiError } from '/ui/shared/api.js';

// Why the last session ended, for the login page; App sends a staff member without a session
// there (remembering the screen) as soon as the session is gone.
let notice = '';

const client = createApi({
  kind: 'staff',
  onSessionExpired() {
    notice = '登录已过期，请重新登录';
  },
});

// A disabled account's token is refused with account_disabled, which no refresh can mend: the
// session ends as if it had expired, with the reason shown on the login page.
function endOnDisabled(call) {
  return async (...args) => {
    try {
      return await call(...args);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'account_disabled' && client.principal()) {
        notice = '账号已停用，请联系管理员';
        await client.logout().catch(() => {});
      }
      throw err;
    }
  };
}

export const api = {
  ...client,
  get: endOnDisabled(client.get),
  post: endOnDisabled(client.post),
  put: endOnDisabled(client.put),
  del: endOnDisabled(client.del),
  upload: endOnDisabled(client.upload),
};

// takeLoginNotice says once why the last session ended (expired, disabled), for the login
// page to explain why it is shown; empty after a plain logout.
export function takeLoginNotice() {
  const why = notice;
  notice = '';
  return why;
}

export const isAdmin = (staff) => Boolean(staff && staff.role === 'admin');
