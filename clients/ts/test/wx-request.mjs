// What wx.request does, over Node's fetch, for the tests' stand-ins of the mini-program's `wx`
// (WeChat's runtime is not here): real HTTP to the server, wx's option names, its success and
// fail callbacks, JSON.parse of the answer unless dataType says otherwise, and header names
// spelled as the server sent them (so made to differ from fetch's lower case).
export function requestOverFetch(options) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeout ?? 60_000);
  fetch(options.url, { method: options.method ?? "GET", headers: options.header, body: options.data, signal: controller.signal })
    .then(async (response) => {
      const text = await response.text();
      let data = text;
      if ((options.dataType ?? "json") === "json") {
        try {
          data = JSON.parse(text);
        } catch {
          // wx.request hands over the text when it does not parse
        }
      }
      const header = {};
      response.headers.forEach((value, name) => {
        header[name.replace(/(^|-)([a-z])/g, (_, dash, c) => dash + c.toUpperCase())] = value;
      });
      options.success?.({ statusCode: response.status, header, data, errMsg: "request:ok" });
    })
    .catch((error) => options.fail?.({ errMsg: `request:fail ${error.message}` }))
    .finally(() => clearTimeout(timer));
  return { abort: () => controller.abort() };
}
