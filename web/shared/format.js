// Money is an integer number of fen on the wire; people read and type yuan. The conversion is
// done on digits, never through floating point, so "19.99" is always 1999 fen.

// formatYuan renders fen as "¥12.34" ("-¥1.50" for a negative amount).
export function formatYuan(fen) {
  if (fen === null || fen === undefined || !Number.isFinite(Number(fen))) return '';
  const n = Math.trunc(Number(fen));
  const sign = n < 0 ? '-' : '';
  const abs = Math.abs(n);
  const yuan = Math.trunc(abs / 100);
  const cents = String(abs % 100).padStart(2, '0');
  return `${sign}¥${yuan.toLocaleString('zh-CN')}.${cents}`;
}

// yuanInput renders fen for an input field: "12.34", no currency sign or grouping.
export function yuanInput(fen) {
  if (fen === null || fen === undefined || fen === '') return '';
  const n = Math.trunc(Number(fen));
  const abs = Math.abs(n);
  return `${n < 0 ? '-' : ''}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

const yuanPattern = /^(\d{1,10})(?:\.(\d{1,2}))?$/;

// parseYuan reads a non-negative yuan amount with at most two decimals ("12", "12.3",
// "12.34", surrounding spaces allowed) as fen; anything else is null.
export function parseYuan(text) {
  const m = yuanPattern.exec(String(text ?? '').trim());
  if (!m) return null;
  const cents = (m[2] || '').padEnd(2, '0');
  return Number(m[1]) * 100 + Number(cents);
}

// formatTime renders an RFC 3339 time in the browser's zone as "2026-12-07 14:05".
export function formatTime(rfc3339) {
  if (!rfc3339) return '';
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

// isMobile accepts what the API accepts as an account's mobile number (internal/user).
export function isMobile(text) {
  return /^1[3-9]\d{9}$/.test(String(text ?? '').trim());
}

// isPhone accepts what the API accepts as an address's phone: mobile or landline digits,
// with spaces or dashes inside and an optional leading +.
export function isPhone(text) {
  return /^\+?[0-9][0-9 -]{4,18}[0-9]$/.test(String(text ?? '').trim());
}

// addressLine renders a delivery address (an address of the API or an order's copy of one) on
// one line: "浙江省 杭州市 西湖区 文三路 1 号".
export function addressLine(addr) {
  if (!addr) return '';
  return [addr.province, addr.city, addr.district, addr.detail].filter(Boolean).join(' ');
}

// specText renders a SKU's spec values as "颜色:黑色 / 容量:128G"; '' for a product without
// specs (its one default SKU).
export function specText(specs) {
  return Object.entries(specs || {})
    .map(([name, value]) => `${name}:${value}`)
    .join(' / ');
}
