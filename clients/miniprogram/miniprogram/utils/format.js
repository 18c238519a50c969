// Money arrives as integer fen; it is shown with integer arithmetic, never as a float.
function yuan(fen) {
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(fen);
  const cents = String(abs % 100);
  return `${sign}¥${Math.floor(abs / 100)}.${cents.length < 2 ? "0" + cents : cents}`;
}

function specsText(specs) {
  return Object.keys(specs || {})
    .map((name) => specs[name])
    .join(" / ");
}

/** What a product list shows of a product. */
function productCard(product) {
  return {
    id: product.id,
    title: product.title,
    subtitle: product.subtitle,
    image: product.image || "",
    priceText: yuan(product.price_min),
  };
}

const orderStatusText = {
  pending_payment: "待付款",
  paid: "已付款",
  shipped: "已发货",
  completed: "已完成",
  cancelled: "已取消",
  refunding: "退款中",
  refunded: "已退款",
};

module.exports = { yuan, specsText, productCard, orderStatusText };
