const { client, asBuyer, errorText, newIdempotencyKey } = require("../../utils/api.js");
const { wxp } = require("../../utils/wxp.js");
const { yuan, specsText, orderStatusText } = require("../../utils/format.js");

// After WeChat says the buyer paid, the order turns paid when WeChat Pay's notify reaches the
// shop, a moment later: the page asks again this many times, this far apart.
const paidChecks = 10;
const paidCheckIntervalMs = 1000;

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function orderView(o) {
  return {
    id: o.id,
    orderNo: o.order_no,
    status: o.status,
    statusText: orderStatusText[o.status] || o.status,
    lines: o.lines.map((l) => ({ skuId: l.sku_id, title: l.title, specs: specsText(l.specs), priceText: yuan(l.unit_price), quantity: l.quantity })),
    itemsTotalText: yuan(o.items_total),
    shippingFeeText: yuan(o.shipping_fee),
    payableText: yuan(o.payable),
    address: `${o.address.recipient} ${o.address.phone} ${o.address.province}${o.address.city}${o.address.district}${o.address.detail}`,
  };
}

Page({
  data: {
    order: null,
    paying: false,
    notice: "",
    error: "",
  },

  async onLoad(query) {
    this.orderId = query.id;
    await this.load();
    if (query.pay === "1" && this.data.order && this.data.order.status === "pending_payment") {
      await this.onPay();
    }
  },

  async load() {
    try {
      const { data } = await asBuyer(() => client.GET("/api/v1/orders/{id}", { params: { path: { id: this.orderId } } }));
      this.setData({ order: orderView(data), error: "" });
    } catch (error) {
      this.setData({ error: errorText(error) });
    }
  },

  async onPay() {
    if (this.data.paying) {
      return;
    }
    this.setData({ paying: true, notice: "" });
    // One key per payment the buyer starts, so a retried start answers the same payment.
    this.paymentKey = this.paymentKey || newIdempotencyKey();
    try {
      const { data } = await asBuyer(() =>
        client.POST("/api/v1/orders/{id}/payments", {
          params: { path: { id: this.orderId }, header: { "Idempotency-Key": this.paymentKey } },
          body: { method: "wechat_jsapi" },
        }),
      );
      try {
        await wxp(wx.requestPayment, data.jsapi);
      } catch (failure) {
        const cancelled = /cancel/.test(failure.errMsg || "");
        this.setData({ notice: cancelled ? "已取消支付" : "支付未完成，请重试" });
        return;
      }
      this.setData({ notice: "支付成功，正在确认…" });
      await this.waitUntilPaid();
    } catch (error) {
      wx.showToast({ title: errorText(error), icon: "none" });
    } finally {
      this.setData({ paying: false });
    }
  },

  async waitUntilPaid() {
    for (let i = 0; i < paidChecks; i++) {
      await this.load();
      if (this.data.order && this.data.order.status !== "pending_payment") {
        this.setData({ notice: "" });
        return;
      }
      await delay(paidCheckIntervalMs);
    }
    this.setData({ notice: "支付结果确认中，请稍后刷新" });
  },

  async onCancel() {
    try {
      const { data } = await asBuyer(() => client.POST("/api/v1/orders/{id}/cancel", { params: { path: { id: this.orderId } } }));
      this.setData({ order: orderView(data) });
    } catch (error) {
      wx.showToast({ title: errorText(error), icon: "none" });
    }
  },

  onTapHome() {
    wx.switchTab({ url: "/pages/index/index" });
  },
});
