// What WeChat's devtools would refuse at compile time: a page in app.json without its four
// files, a template binding an event to a handler its page does not define, JSON that does
// not parse.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { createWx, launch, root } from "./harness.mjs";

const appJson = JSON.parse(readFileSync(join(root, "app.json"), "utf8"));

test("every page of app.json has its .js, .wxml, .wxss and .json", () => {
  assert.ok(appJson.pages.length >= 6);
  for (const page of appJson.pages) {
    for (const ext of [".js", ".wxml", ".wxss", ".json"]) {
      assert.ok(existsSync(join(root, page + ext)), `${page}${ext} is missing`);
    }
    JSON.parse(readFileSync(join(root, `${page}.json`), "utf8"));
  }
  for (const tab of appJson.tabBar.list) {
    assert.ok(appJson.pages.includes(tab.pagePath), `tab ${tab.pagePath} is not a page`);
  }
});

test("templates bind events only to handlers their page defines", async () => {
  // Loading the pages needs no server: none calls it before onLoad.
  const mp = launch(createWx().wx, "http://127.0.0.1:9");
  for (const route of appJson.pages) {
    const wxml = readFileSync(join(root, `${route}.wxml`), "utf8");
    const handlers = [...wxml.matchAll(/\s(?:capture-)?(?:bind|catch):?[a-z]+="([^"]*)"/g)].map((m) => m[1]);
    assert.ok(handlers.length > 0, `${route}.wxml binds no event`);
    const definition = mp.definition(route);
    for (const handler of handlers) {
      assert.equal(typeof definition[handler], "function", `${route}.wxml binds ${handler}, which the page does not define`);
    }
  }
});
