const { client, errorText } = require("../../utils/api.js");
const { productCard } = require("../../utils/format.js");

const pageSize = 10;

Page({
  data: {
    categories: [],
    categoryId: "",
    products: [],
    page: 0,
    hasMore: true,
    loading: false,
    error: "",
  },

  onLoad() {
    return Promise.all([this.loadCategories(), this.loadMore()]);
  },

  async loadCategories() {
    try {
      const { data } = await client.GET("/api/v1/categories");
      this.setData({ categories: data.items.map((c) => ({ id: c.id, name: c.name })) });
    } catch (error) {
      this.setData({ error: errorText(error) });
    }
  },

  async loadMore() {
    if (this.data.loading || !this.data.hasMore) {
      return;
    }
    this.setData({ loading: true });
    try {
      const page = this.data.page + 1;
      const query = { page, page_size: pageSize };
      if (this.data.categoryId) {
        query.category_id = this.data.categoryId;
      }
      const { data } = await client.GET("/api/v1/products", { params: { query } });
      const products = this.data.products.concat(data.items.map(productCard));
      this.setData({ products, page, hasMore: products.length < data.total, error: "" });
    } catch (error) {
      this.setData({ error: errorText(error) });
    } finally {
      this.setData({ loading: false });
    }
  },

  reload() {
    this.setData({ products: [], page: 0, hasMore: true });
    return this.loadMore();
  },

  onReachBottom() {
    return this.loadMore();
  },

  async onPullDownRefresh() {
    await this.reload();
    wx.stopPullDownRefresh();
  },

  onTapCategory(event) {
    const id = event.currentTarget.dataset.id;
    this.setData({ categoryId: id === this.data.categoryId ? "" : id });
    return this.reload();
  },

  onTapSearch() {
    wx.navigateTo({ url: "/pages/search/search" });
  },

  onTapProduct(event) {
    wx.navigateTo({ url: `/pages/product/product?id=${event.currentTarget.dataset.id}` });
  },

  // Demo images live on a host the mini-program may not reach: show the grey placeholder.
  onImageError(event) {
    this.setData({ [`products[${event.currentTarget.dataset.index}].image`]: "" });
  },
});
