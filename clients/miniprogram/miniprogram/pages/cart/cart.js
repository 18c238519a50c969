const { client, asBuyer, errorText } = require("../../utils/api.js");
const { yuan, specsText } = require("../../utils/format.js");

const stateText = { in_stock: "", short: "库存不足", out_of_stock: "已售罄", unavailable: "已下架" };

Page({
  data: {
    lines: [],
    selectedCount: 0,
    selectedTotalText: yuan(0),
    loaded: false,
    error: "",
  },

  onShow() {
    return this.run(() => client.GET("/api/v1/cart"));
  },

  // run sends one cart call as the buyer and shows the cart it answers (every cart call
  // answers the whole cart).
  async run(call) {
    try {
      const { data } = await asBuyer(call);
      this.show(data);
    } catch (error) {
      this.setData({ error: errorText(error), loaded: true });
    }
  },

  show(cart) {
    this.setData({
      lines: cart.lines.map((line) => ({
        skuId: line.sku_id,
        title: line.title,
        specs: specsText(line.specs),
        image: line.image || "",
        priceText: yuan(line.price),
        quantity: line.quantity,
        selected: line.selected,
        problem: stateText[line.state],
      })),
      selectedCount: cart.selected_quantity,
      selectedTotalText: yuan(cart.selected_total),
      loaded: true,
      error: "",
    });
  },

  line(event) {
    return this.data.lines.find((l) => l.skuId === event.currentTarget.dataset.sku);
  },

  onTapSelect(event) {
    const line = this.line(event);
    return this.run(() => client.PUT("/api/v1/cart/items/{sku_id}", { params: { path: { sku_id: line.skuId } }, body: { selected: !line.selected } }));
  },

  onTapMinus(event) {
    const line = this.line(event);
    if (line.quantity <= 1) {
      return this.onTapRemove(event);
    }
    return this.run(() => client.PUT("/api/v1/cart/items/{sku_id}", { params: { path: { sku_id: line.skuId } }, body: { quantity: line.quantity - 1 } }));
  },

  onTapPlus(event) {
    const line = this.line(event);
    return this.run(() => client.PUT("/api/v1/cart/items/{sku_id}", { params: { path: { sku_id: line.skuId } }, body: { quantity: line.quantity + 1 } }));
  },

  onTapRemove(event) {
    const line = this.line(event);
    return this.run(() => client.DELETE("/api/v1/cart/items/{sku_id}", { params: { path: { sku_id: line.skuId } } }));
  },

  onCheckout() {
    if (!this.data.selectedCount) {
      wx.showToast({ title: "请选择要结算的商品", icon: "none" });
      return;
    }
    wx.navigateTo({ url: "/pages/checkout/checkout?from=cart" });
  },

  onImageError(event) {
    this.setData({ [`lines[${event.currentTarget.dataset.index}].image`]: "" });
  },
});
