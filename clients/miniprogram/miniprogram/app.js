const { ensureLogin } = require("./utils/api.js");

App({
  onLaunch() {
    // Log in early so the first page that needs the buyer does not wait for it; a failure
    // here is retried by that page.
    ensureLogin().catch(() => {});
  },
});
