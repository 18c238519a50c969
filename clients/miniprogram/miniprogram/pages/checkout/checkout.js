const { client, asBuyer, errorText, newIdempotencyKey } = require("../../utils/api.js");
const { wxp } = require("../../utils/wxp.js");
const { yuan, specsText } = require("../../utils/format.js");

function addressView(a) {
  return { id: a.id, recipient: a.recipient, phone: a.phone, text: `${a.province}${a.city}${a.district}${a.detail}` };
}

Page({
  data: {
    fromCart: false,
    lines: [],
    itemsTotalText: "",
    address: null,
    remark: "",
    submitting: false,
    error: "",
  },

  async onLoad(query) {
    this.query = query;
    this.setData({ fromCart: query.from === "cart" });
    try {
      await asBuyer(() => Promise.all([this.loadLines(), this.loadAddress()]));
    } catch (error) {
      this.setData({ error: errorText(error) });
    }
  },

  // The lines to order, for the buyer to check: the cart's selected lines, or the one SKU of
  // "buy now". The server prices the order again when it is placed.
  async loadLines() {
    if (this.data.fromCart) {
      const { data } = await client.GET("/api/v1/cart");
      const lines = data.lines
        .filter((l) => l.selected && l.state !== "unavailable")
        .map((l) => ({ skuId: l.sku_id, title: l.title, specs: specsText(l.specs), priceText: yuan(l.price), quantity: l.quantity }));
      this.setData({ lines, itemsTotalText: yuan(data.selected_total) });
      return;
    }
    const { data } = await client.GET("/api/v1/products/{id}", { params: { path: { id: this.query.product_id } } });
    const sku = data.skus.find((s) => s.id === this.query.sku_id);
    if (!sku) {
      this.setData({ error: "该规格已下架" });
      return;
    }
    const quantity = Number(this.query.quantity) || 1;
    this.setData({
      lines: [{ skuId: sku.id, title: data.title, specs: specsText(sku.specs), priceText: yuan(sku.price), quantity }],
      itemsTotalText: yuan(sku.price * quantity),
    });
  },

  async loadAddress() {
    const { data } = await client.GET("/api/v1/me/addresses");
    const chosen = data.items.find((a) => a.is_default) || data.items[0];
    this.setData({ address: chosen ? addressView(chosen) : null });
  },

  // The buyer picks an address from WeChat's own address book; it is saved to the account.
  async onChooseAddress() {
    let picked;
    try {
      picked = await wxp(wx.chooseAddress);
    } catch (closed) {
      return; // the buyer closed the address book (or refused access to it)
    }
    try {
      const { data } = await asBuyer(() =>
        client.POST("/api/v1/me/addresses", {
          body: {
            recipient: picked.userName,
            phone: picked.telNumber,
            province: picked.provinceName,
            city: picked.cityName,
            district: picked.countyName,
            detail: picked.detailInfo,
          },
        }),
      );
      this.orderKey = null; // another address is another order
      this.setData({ address: addressView(data) });
    } catch (error) {
      wx.showToast({ title: errorText(error), icon: "none" });
    }
  },

  onRemarkInput(event) {
    this.orderKey = null;
    this.setData({ remark: event.detail.value });
  },

  async onSubmit() {
    if (this.data.submitting) {
      return;
    }
    if (!this.data.address) {
      wx.showToast({ title: "请选择收货地址", icon: "none" });
      return;
    }
    const body = { address_id: this.data.address.id };
    if (this.data.fromCart) {
      body.from_cart = true;
    } else {
      body.items = this.data.lines.map((l) => ({ sku_id: l.skuId, quantity: l.quantity }));
    }
    if (this.data.remark.trim()) {
      body.remark = this.data.remark.trim();
    }
    // One key per order the buyer means to place: a retry after a lost answer (a tap again
    // after a network error) gets the same order back instead of a second one.
    this.orderKey = this.orderKey || newIdempotencyKey();
    this.setData({ submitting: true });
    try {
      const { data } = await asBuyer(() => client.POST("/api/v1/orders", { params: { header: { "Idempotency-Key": this.orderKey } }, body }));
      wx.redirectTo({ url: `/pages/order/order?id=${data.id}&pay=1` });
    } catch (error) {
      wx.showToast({ title: errorText(error), icon: "none" });
    } finally {
      this.setData({ submitting: false });
    }
  },
});
