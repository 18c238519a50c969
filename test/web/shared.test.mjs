// The shared front-end helpers that need no DOM (web/shared/url.js, password.js and the
// address/spec text of format.js), run in Node. The rich-text allow-list needs a DOM parser:
// test/browser/store.test.mjs runs it in chromium.
import test from 'node:test';
import assert from 'node:assert/strict';
import { addressLine, specText } from '../../web/shared/format.js';
import { passwordProblem } from '../../web/shared/password.js';
import { localTarget, queryString, safeRedirectUrl, withQuery } from '../../web/shared/url.js';

test('queryString and withQuery leave out empty values', () => {
  assert.equal(queryString({ q: '手机', page: 2, sort: '', cursor: undefined, x: null, zero: 0 }), 'q=%E6%89%8B%E6%9C%BA&page=2&zero=0');
  assert.equal(queryString({}), '');
  assert.equal(withQuery('/search', { q: 'a b' }), '/search?q=a+b');
  assert.equal(withQuery('/orders', { status: '' }), '/orders');
  assert.equal(withQuery('/x?a=1', { b: 2 }), '/x?a=1&b=2');
});

test('localTarget accepts only routes of this page, and not the login forms', () => {
  assert.equal(localTarget('/orders/12?x=1'), '/orders/12?x=1');
  for (const bad of ['//evil.example/x', 'https://evil.example/', 'javascript:alert(1)', '/\\evil.example', '', null, undefined, 'orders', '/login', '/login?next=%2F', '/register']) {
    assert.equal(localTarget(bad, '/home'), '/home', JSON.stringify(bad));
  }
  assert.equal(localTarget('/loginhelp'), '/loginhelp');
});

test('safeRedirectUrl follows https anywhere and http only to this origin', () => {
  globalThis.location = new URL('http://shop.test:8080/#/pay/1');
  try {
    assert.equal(safeRedirectUrl('https://openapi.alipay.com/gateway.do?x=1'), 'https://openapi.alipay.com/gateway.do?x=1');
    assert.equal(safeRedirectUrl('http://shop.test:8080/sandbox/pay/1'), 'http://shop.test:8080/sandbox/pay/1');
    assert.equal(safeRedirectUrl('/sandbox/pay/1'), 'http://shop.test:8080/sandbox/pay/1');
    for (const bad of ['javascript:alert(1)', 'http://evil.example/pay', 'data:text/html,x', 'http://shop.test:9090/', '', null]) {
      assert.equal(safeRedirectUrl(bad), '', JSON.stringify(bad));
    }
  } finally {
    delete globalThis.location;
  }
});

test('passwordProblem applies the API rules, the username one included', () => {
  assert.equal(passwordProblem('Buyer-pass-1', 'zhangsan'), '');
  assert.equal(passwordProblem('密码密码12'), ''); // any script's letters count, as in Go
  assert.equal(passwordProblem(''), '请输入密码');
  assert.equal(passwordProblem('abc123'), '密码至少 8 位');
  assert.equal(passwordProblem('a1'.repeat(37)), '密码太长（最多 72 个字节）');
  assert.equal(passwordProblem('abcdefgh'), '密码需同时包含字母和数字');
  assert.equal(passwordProblem('12345678'), '密码需同时包含字母和数字');
  assert.equal(passwordProblem('xxZhangSan99', 'zhangsan'), '密码不能包含用户名');
  assert.equal(passwordProblem('xxZhangSan99', ''), '');
});

test('addressLine and specText', () => {
  assert.equal(addressLine({ province: '广东省', city: '深圳市', district: '南山区', detail: '科技园路 1 号', recipient: '张三' }), '广东省 深圳市 南山区 科技园路 1 号');
  assert.equal(addressLine({ province: '北京市', city: '北京市', district: '', detail: '建国路 2 号' }), '北京市 北京市 建国路 2 号');
  assert.equal(addressLine(null), '');
  assert.equal(specText({ 颜色: '黑色', 容量: '128G' }), '颜色:黑色 / 容量:128G');
  assert.equal(specText({}), '');
  assert.equal(specText(null), '');
});
