// wxp turns a callback-style wx API into a promise: not every base library version returns
// promises from every API.
function wxp(api, options) {
  return new Promise((resolve, reject) => {
    api(Object.assign({}, options, { success: resolve, fail: reject }));
  });
}

module.exports = { wxp };
