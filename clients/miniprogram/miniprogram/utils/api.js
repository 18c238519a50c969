// The shop's API for every page: the typed client (built from api/openapi.yaml, see
// README.md) over wx.request, with the buyer's tokens in the mini-program's storage and the
// login done with wx.login.
const { createClient, wxTransport, ApiError, newIdempotencyKey } = require("@minimart/client");
const config = require("../config.js");
const { wxp } = require("./wxp.js");

const tokenKey = "minimart_tokens";

// Storage survives restarts and only this mini-program reads it, so a buyer stays logged in
// until the refresh token expires.
const tokenStore = {
  get() {
    return wx.getStorageSync(tokenKey) || null;
  },
  set(tokens) {
    if (tokens) {
      wx.setStorageSync(tokenKey, tokens);
    } else {
      wx.removeStorageSync(tokenKey);
    }
  },
};

const client = createClient({ baseUrl: config.baseUrl, transport: wxTransport(wx), tokenStore });

let loggingIn = null;

/** Logs the buyer in with a wx.login code unless a session is stored; one login at a time. */
function ensureLogin() {
  if (tokenStore.get()) {
    return Promise.resolve();
  }
  if (!loggingIn) {
    loggingIn = wxp(wx.login)
      .then(({ code }) => client.POST("/api/v1/auth/wechat", { body: { code } }))
      .then(() => undefined)
      .finally(() => {
        loggingIn = null;
      });
  }
  return loggingIn;
}

/**
 * Runs call() as the logged-in buyer. When the session ended on the way (the client could not
 * refresh it and cleared it), logs in again with a new code and runs call() once more, so the
 * buyer never sees a login screen.
 */
async function asBuyer(call) {
  await ensureLogin();
  try {
    return await call();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401 && !tokenStore.get()) {
      await ensureLogin();
      return call();
    }
    throw error;
  }
}

const messages = {
  network_error: "网络不给力，请稍后再试",
  rate_limited: "操作太频繁，请稍后再试",
  out_of_stock: "库存不足",
  sku_unavailable: "商品已下架",
  product_not_found: "商品不存在或已下架",
  order_not_found: "订单不存在",
  cart_full: "购物车已满",
  insufficient_stock: "库存不足",
  empty_order: "没有可以下单的商品",
  address_not_found: "收货地址不存在",
  too_many_addresses: "收货地址太多了",
  order_not_payable: "订单当前不能支付",
  payment_deadline_passed: "订单已过支付时间",
  payment_method_unavailable: "暂不支持微信支付",
  invalid_order_state: "订单状态已变化，请刷新",
  wechat_code_invalid: "微信登录失败，请重试",
  wechat_code_used: "微信登录失败，请重试",
  wechat_user_blocked: "该微信账号暂不能登录",
  wechat_not_configured: "商城未开通微信登录",
  dependency_unavailable: "服务繁忙，请稍后再试",
  database_unavailable: "服务繁忙，请稍后再试",
};

/** A short Chinese text for a failed call, fit for wx.showToast. */
function errorText(error) {
  if (error instanceof ApiError) {
    return messages[error.code] || `出错了（${error.code}）`;
  }
  return "出错了，请稍后再试";
}

module.exports = { client, tokenStore, ensureLogin, asBuyer, errorText, newIdempotencyKey, ApiError };
