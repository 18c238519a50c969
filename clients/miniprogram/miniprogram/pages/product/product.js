const { client, asBuyer, errorText } = require("../../utils/api.js");
const { yuan } = require("../../utils/format.js");

// The SKU whose specs are exactly the chosen ones, if every spec is chosen.
function matchingSku(product, chosen) {
  return product.skus.find((sku) => product.specs.every((spec) => sku.specs[spec.name] === chosen[spec.name])) || null;
}

Page({
  data: {
    product: null,
    specs: [],
    chosen: {},
    sku: null,
    quantity: 1,
    priceText: "",
    stockText: "",
    error: "",
  },

  async onLoad(query) {
    try {
      const { data } = await client.GET("/api/v1/products/{id}", { params: { path: { id: query.id } } });
      // The whole product stays on the page instance for choosing SKUs; data holds what is shown.
      this.product = data;
      const chosen = {};
      // A spec with one value is chosen already.
      for (const spec of data.specs) {
        if (spec.values.length === 1) {
          chosen[spec.name] = spec.values[0];
        }
      }
      wx.setNavigationBarTitle({ title: data.title });
      this.setData({
        product: { id: data.id, title: data.title, subtitle: data.subtitle, description: data.description, images: data.images },
      });
      this.choose(chosen);
    } catch (error) {
      this.setData({ error: errorText(error) });
    }
  },

  choose(chosen) {
    const product = this.product;
    const sku = matchingSku(product, chosen);
    const specs = product.specs.map((spec) => ({
      name: spec.name,
      values: spec.values.map((value) => ({
        value,
        chosen: chosen[spec.name] === value,
        // A value no SKU in stock has, together with the other chosen specs, cannot be bought.
        soldOut: !product.skus.some(
          (s) => s.stock > 0 && s.specs[spec.name] === value && product.specs.every((o) => o.name === spec.name || !chosen[o.name] || s.specs[o.name] === chosen[o.name]),
        ),
      })),
    }));
    const quantity = sku ? Math.max(1, Math.min(this.data.quantity, sku.stock)) : this.data.quantity;
    this.setData({
      specs,
      chosen,
      quantity,
      sku: sku ? { id: sku.id, stock: sku.stock } : null,
      priceText: sku ? yuan(sku.price) : product.price_min === product.price_max ? yuan(product.price_min) : `${yuan(product.price_min)} 起`,
      stockText: sku ? (sku.stock > 0 ? `库存 ${sku.stock} 件` : "已售罄") : "请选择规格",
    });
  },

  onTapSpec(event) {
    const { name, value } = event.currentTarget.dataset;
    this.choose(Object.assign({}, this.data.chosen, { [name]: value }));
  },

  onTapMinus() {
    this.setData({ quantity: Math.max(1, this.data.quantity - 1) });
  },

  onTapPlus() {
    const limit = this.data.sku ? Math.min(this.data.sku.stock, 99) : 99;
    this.setData({ quantity: Math.min(limit, this.data.quantity + 1) });
  },

  // ready says whether a SKU in stock is chosen, and tells the buyer when not.
  ready() {
    if (!this.data.sku) {
      wx.showToast({ title: "请选择规格", icon: "none" });
      return false;
    }
    if (this.data.sku.stock < 1) {
      wx.showToast({ title: "已售罄", icon: "none" });
      return false;
    }
    return true;
  },

  async onAddToCart() {
    if (!this.ready()) {
      return;
    }
    try {
      await asBuyer(() => client.POST("/api/v1/cart/items", { body: { sku_id: this.data.sku.id, quantity: this.data.quantity } }));
      wx.showToast({ title: "已加入购物车", icon: "success" });
    } catch (error) {
      wx.showToast({ title: errorText(error), icon: "none" });
    }
  },

  onBuyNow() {
    if (!this.ready()) {
      return;
    }
    wx.navigateTo({
      url: `/pages/checkout/checkout?product_id=${this.data.product.id}&sku_id=${this.data.sku.id}&quantity=${this.data.quantity}`,
    });
  },

  onImageError(event) {
    this.setData({ [`product.images[${event.currentTarget.dataset.index}]`]: "" });
  },
});
