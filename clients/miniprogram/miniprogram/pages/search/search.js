const { client, errorText } = require("../../utils/api.js");
const { productCard } = require("../../utils/format.js");

Page({
  data: {
    query: "",
    results: [],
    total: 0,
    searched: false,
    loading: false,
    error: "",
  },

  onInput(event) {
    this.setData({ query: event.detail.value });
  },

  async onSearch() {
    const q = this.data.query.trim();
    if (!q) {
      return;
    }
    this.setData({ loading: true, error: "" });
    try {
      const { data } = await client.GET("/api/v1/search", { params: { query: { q, page_size: 20 } } });
      this.setData({ results: data.items.map(productCard), total: data.total, searched: true });
    } catch (error) {
      this.setData({ error: errorText(error) });
    } finally {
      this.setData({ loading: false });
    }
  },

  onTapProduct(event) {
    wx.navigateTo({ url: `/pages/product/product?id=${event.currentTarget.dataset.id}` });
  },

  onImageError(event) {
    this.setData({ [`results[${event.currentTarget.dataset.index}].image`]: "" });
  },
});
