// The storefront's and console's money and phone helpers (web/shared/format.js), run in Node.
import test from 'node:test';
import assert from 'node:assert/strict';
import { formatYuan, yuanInput, parseYuan, isMobile, isPhone } from '../../web/shared/format.js';

test('parseYuan reads yuan as fen on digits, never through floats', () => {
  const cases = [
    ['0', 0], ['12', 1200], ['12.3', 1230], ['12.34', 1234], [' 19.99 ', 1999],
    ['0.07', 7], ['4.35', 435], ['1.005', null], ['', null], ['-1', null], ['1e3', null],
    ['12.', null], ['.5', null], ['１２', null], ['12,000', null], [null, null],
  ];
  for (const [text, want] of cases) assert.equal(parseYuan(text), want, `parseYuan(${JSON.stringify(text)})`);
});

test('formatYuan and yuanInput render fen', () => {
  assert.equal(formatYuan(123456), '¥1,234.56');
  assert.equal(formatYuan(5), '¥0.05');
  assert.equal(formatYuan(-150), '-¥1.50');
  assert.equal(formatYuan(undefined), '');
  assert.equal(yuanInput(1999), '19.99');
  assert.equal(yuanInput(100000), '1000.00');
  for (const fen of [0, 1, 99, 100, 435, 1999, 123456789]) assert.equal(parseYuan(yuanInput(fen)), fen);
});

test('isMobile and isPhone accept what the API accepts', () => {
  assert.ok(isMobile('13800000000'));
  assert.ok(!isMobile('12800000000'));
  assert.ok(!isMobile('1380000000'));
  assert.ok(isPhone('13800000000'));
  assert.ok(isPhone('0755-8888 1234'));
  assert.ok(isPhone('+86 138 0000 0000'));
  assert.ok(!isPhone('abc'));
  assert.ok(!isPhone('12'));
});
