// Runs the mini-program's pages in Node, since WeChat's devtools and runtime are not available
// here. It loads each file the way the mini-program runtime does (CommonJS modules in one
// context holding only what a mini-program has: wx, App, Page, getApp, getCurrentPages, timers
// and console; no fetch, no process), registers App() and Page() definitions, makes page
// instances with data and setData, and gives them a `wx` stand-in that records every call and
// sends wx.request as real HTTP.
import { existsSync, readFileSync } from "node:fs";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { requestOverFetch } from "../../ts/test/wx-request.mjs";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../miniprogram");

/** Parameters a test run gets from test/e2e/clients_test.go, which starts the server and the WeChat fakes. */
export const env = {
  baseUrl: process.env.MINIMART_URL,
  appId: process.env.MINIMART_TEST_WECHAT_APPID,
  payUrl: process.env.MINIMART_TEST_WECHAT_PAY_URL,
};

if (!(env.baseUrl && env.appId && env.payUrl) && process.env.MINIMART_REQUIRE_SERVICES === "1") {
  throw new Error("MINIMART_URL, MINIMART_TEST_WECHAT_APPID or MINIMART_TEST_WECHAT_PAY_URL is not set (and MINIMART_REQUIRE_SERVICES=1): run go test ./test/e2e/ -run TestMiniProgram");
}

/** node:test's skip option for the tests that drive the server through the pages. */
export const needsServer =
  env.baseUrl && env.appId && env.payUrl
    ? false
    : "SKIPPED: needs the server with fake WeChat login and pay; go test ./test/e2e/ -run TestMiniProgram starts them";

/** A value from the mini-program's context as a plain object of this one, for deepEqual. */
export const plain = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

let devices = 0;

/**
 * A stand-in for `wx`. Each instance is one phone with one WeChat user: wx.login hands out
 * codes that the fake code2session maps to the same openid. `payment` decides what
 * wx.requestPayment does: "pay" asks the fake WeChat Pay to pay (it checks the paySign first),
 * "cancel" is the buyer closing the payment sheet.
 */
export function createWx({ payment = "pay" } = {}) {
  const device = `dev${process.pid}x${++devices}x${Date.now().toString(36)}`;
  const calls = [];
  const storage = new Map();
  let logins = 0;
  const later = (fn) => setImmediate(fn);
  const record = (api, options) => calls.push({ api, options });
  const ok = (api, options, result) => later(() => options.success?.({ errMsg: `${api}:ok`, ...result }));

  const wx = {
    request(options) {
      record("request", options);
      return requestOverFetch(options);
    },
    login(options) {
      record("login", options);
      ok("login", options, { code: `${device}-${++logins}` });
    },
    requestPayment(options) {
      record("requestPayment", options);
      if (payment === "cancel") {
        later(() => options.fail?.({ errMsg: "requestPayment:fail cancel" }));
        return;
      }
      // WeChat signs nothing here: it checks the paySign against the mini-program's appid and
      // the merchant key, which is what the fake behind payUrl does.
      const { timeStamp, nonceStr, signType, paySign } = options;
      fetch(env.payUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ appId: env.appId, timeStamp, nonceStr, package: options.package, signType, paySign }),
      })
        .then(async (response) => {
          const text = await response.text();
          if (response.status === 200) {
            options.success?.({ errMsg: "requestPayment:ok" });
          } else {
            options.fail?.({ errMsg: `requestPayment:fail ${text}` });
          }
        })
        .catch((error) => options.fail?.({ errMsg: `requestPayment:fail ${error.message}` }));
    },
    chooseAddress(options) {
      record("chooseAddress", options);
      ok("chooseAddress", options, {
        userName: "张三",
        telNumber: "13700000000",
        provinceName: "广东省",
        cityName: "广州市",
        countyName: "天河区",
        detailInfo: "体育西路 1 号",
        postalCode: "510000",
      });
    },
    getStorageSync(key) {
      return storage.has(key) ? structuredClone(storage.get(key)) : "";
    },
    setStorageSync(key, value) {
      storage.set(key, structuredClone(value));
    },
    removeStorageSync(key) {
      storage.delete(key);
    },
  };
  for (const api of ["navigateTo", "redirectTo", "switchTab", "navigateBack", "showToast", "showLoading", "hideLoading", "setNavigationBarTitle", "stopPullDownRefresh"]) {
    wx[api] = (options = {}) => {
      record(api, options);
      ok(api, options, {});
    };
  }
  return { wx, calls, storage, callsTo: (api) => calls.filter((c) => c.api === api).map((c) => c.options) };
}

// setPath sets data at a setData key such as "products[3].image" or "product.title".
function setPath(target, key, value) {
  const parts = key.match(/[^.[\]]+/g);
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node = node[part];
  }
  node[parts[parts.length - 1]] = value;
}

/**
 * Starts the mini-program with `wx` and the shop at baseUrl (it stands in for config.js):
 * runs app.js and App's onLaunch. Returns `open(route, query)`, which makes a page instance,
 * runs its onLoad and onShow and resolves with it once their promises settle,
 * `definition(route)`, what the page gave Page(), and `require` into the mini-program's modules.
 */
export function launch(wx, baseUrl) {
  if (!existsSync(join(root, "miniprogram_npm/@minimart/client/index.js"))) {
    throw new Error("miniprogram/miniprogram_npm/@minimart/client is missing: run `npm ci && npm run build:miniprogram` in clients/ts");
  }
  const definitions = new Map();
  const stack = [];
  let app = null;
  let registering = null;
  const context = vm.createContext({
    wx,
    console,
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
    App(options) {
      app = options;
    },
    Page(definition) {
      definitions.set(registering, definition);
    },
    getApp: () => app,
    getCurrentPages: () => stack.slice(),
  });

  const modules = new Map([[join(root, "config.js"), { exports: { baseUrl } }]]);

  function resolveModule(from, request) {
    let file;
    if (request.startsWith("/")) {
      file = join(root, request);
    } else if (request.startsWith(".")) {
      file = resolve(dirname(from), request);
    } else {
      // A package: what the devtools' npm build put under miniprogram_npm.
      file = join(root, "miniprogram_npm", request, "index.js");
    }
    return extname(file) === ".js" ? file : `${file}.js`;
  }

  function load(file) {
    const cached = modules.get(file);
    if (cached) {
      return cached.exports;
    }
    const module = { exports: {} };
    modules.set(file, module);
    const body = vm.compileFunction(readFileSync(file, "utf8"), ["require", "module", "exports"], { filename: file, parsingContext: context });
    body.call(module.exports, (request) => load(resolveModule(file, request)), module, module.exports);
    return module.exports;
  }

  load(join(root, "app.js"));
  if (!app) {
    throw new Error("app.js did not call App()");
  }
  app.onLaunch?.({});

  // definition runs a page's file once, as the runtime does, and returns what it gave Page().
  function definition(route) {
    if (!definitions.has(route)) {
      registering = route;
      load(join(root, `${route}.js`));
      if (!definitions.has(route)) {
        throw new Error(`${route}.js did not call Page()`);
      }
    }
    return definitions.get(route);
  }

  async function open(route, query = {}) {
    const page = { route, options: query };
    for (const [name, value] of Object.entries(definition(route))) {
      page[name] = name === "data" ? structuredClone(value) : value;
    }
    page.data = page.data ?? {};
    page.setData = (patch, callback) => {
      for (const [key, value] of Object.entries(patch)) {
        setPath(page.data, key, structuredClone(value));
      }
      callback?.();
    };
    stack.push(page);
    await page.onLoad?.(query);
    await page.onShow?.();
    return page;
  }

  return { app, open, definition, require: (request) => load(resolveModule(join(root, "app.js"), request)) };
}

/** The route and query of a navigateTo/redirectTo url, e.g. "/pages/order/order?id=1". */
export function parseUrl(url) {
  const [path, search = ""] = url.split("?");
  const query = {};
  for (const pair of search.split("&").filter(Boolean)) {
    const [key, value = ""] = pair.split("=");
    query[decodeURIComponent(key)] = decodeURIComponent(value);
  }
  return { route: path.replace(/^\//, ""), query };
}
