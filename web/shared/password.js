// passwordProblem checks a new password against the API's rules (internal/user/service.go
// validatePassword: 8 to 72 bytes, a letter and a digit, not containing the username, letters
// and digits of any script) and says what is wrong in Chinese; '' when the API will take it.
export function passwordProblem(password, username = '') {
  const pw = String(password ?? '');
  if (!pw) return '请输入密码';
  const bytes = new TextEncoder().encode(pw).length;
  if (bytes < 8) return '密码至少 8 位';
  if (bytes > 72) return '密码太长（最多 72 个字节）';
  if (!/\p{L}/u.test(pw) || !/\p{Nd}/u.test(pw)) return '密码需同时包含字母和数字';
  const name = String(username ?? '').trim();
  if (name && pw.toLowerCase().includes(name.toLowerCase())) return '密码不能包含用户名';
  return '';
}
