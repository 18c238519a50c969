// The API explains each refused field in English (details.fields[].reason, for developers).
// These are the reasons the console's forms can meet, in Chinese; any other is shown as sent.
const rules = [
  [/^is required$/, () => '必填'],
  [/^must be at most (\d+) characters$/, (n) => `最多 ${n} 个字`],
  [/^must be at most (\d+) bytes$/, (n) => `最多 ${n} 个字节`],
  [/^must be at most (\d+) images?$|^at most (\d+) images$/, (a, b) => `最多 ${a || b} 张图片`],
  [/^at most (\d+) specs$/, (n) => `最多 ${n} 个规格`],
  [/^at most (\d+) SKUs$/, (n) => `最多 ${n} 个 SKU`],
  [/^must be 3 to 32 characters$/, () => '须为 3 到 32 个字符'],
  [/^must be 8 to 72 bytes/, () => '密码须为 8 到 72 个字节，同时包含字母和数字，且不能包含用户名'],
  [/^too weak/, () => '密码强度不够：须为 8 到 72 个字节，同时包含字母和数字，且不能包含用户名'],
  [/^must not be only digits/, () => '不能全是数字'],
  [/^must not start or end with spaces$/, () => '首尾不能有空格'],
  [/^must not contain control characters$/, () => '不能包含控制字符'],
  [/^must be valid UTF-8$/, () => '包含无法识别的字符'],
  [/^must be admin or operator$/, () => '须为管理员或运营'],
  [/^no such category$/, () => '分类不存在'],
  [/^no such SKU$/, () => 'SKU 不存在'],
  [/^categories nest at most 3 levels deep$/, () => '分类最多三级'],
  [/^spec names must be unique$/, () => '规格名不能重复'],
  [/^values must be unique$/, () => '规格值不能重复'],
  [/^must list 1 to 50 values$/, () => '须有 1 到 50 个规格值'],
  [/^must be a positive amount in fen$/, () => '须为大于 0 的金额'],
  [/^must be zero \(none\) or a positive amount in fen$/, () => '须为 0（不设）或大于 0 的金额'],
  [/^must be at most 100000000 yuan$/, () => '不能超过 1 亿元'],
  [/^must be an http\(s\) URL or a path on this server/, () => '须为 http(s) 链接或本站 /media/ 路径'],
  [/^is not a spec the product declares$/, () => '不是商品声明的规格'],
  [/^".*" is not one of the declared values$/, () => '不是该规格声明的值'],
  [/^is required: the product declares this spec$/, () => '缺少商品声明的规格'],
  [/^same spec values as skus\[(\d+)\]$/, (n) => `与第 ${Number(n) + 1} 个 SKU 的规格相同`],
  [/^same SKU code as skus\[(\d+)\]$/, (n) => `与第 ${Number(n) + 1} 个 SKU 的编码相同`],
  [/^a product needs at least one SKU to go on shelf$/, () => '至少需要一个 SKU 才能上架'],
  [/^must be between 0 and 100000000$/, () => '须在 0 到 1 亿之间'],
  [/^must be a non-zero number between -100000000 and 100000000$/, () => '须为 -1 亿到 1 亿之间的非 0 整数'],
  [/^must be between -1000000 and 1000000$/, () => '须在 -1000000 到 1000000 之间'],
  [/^must be in the future$|^is in the past$/, () => '须晚于现在'],
  [/^must be after (starts_at|from)$/, () => '须晚于开始时间'],
  [/^must not be more than the quantity$/, () => '不能超过数量'],
  [/^must be at least 1 fen and at most the payment's total$/, () => '须在 0.01 元到实付金额之间'],
  [/^must be an RFC 3339 time/, () => '时间格式不正确'],
  [/^must be a page number from 1 to 500$/, () => '页码须在 1 到 500 之间'],
];

export function reasonText(reason) {
  for (const [re, text] of rules) {
    const m = re.exec(reason);
    if (m) return text(...m.slice(1));
  }
  return reason;
}
