// Where the shop's API is. The mini-program may only call domains listed as "request 合法域名"
// on mp.weixin.qq.com, over HTTPS.
module.exports = {
  baseUrl: "https://shop.example.com",
};
