// Sessions: an expired access token is refreshed once, even for concurrent calls; a refused
// refresh ends the session and says so once.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError, createClient, memoryTokenStore } from "../dist/esm/index.js";
import { accessToken, baseUrl, needsSigningKey, recordingTransport, registeredClient } from "./helpers.mjs";

const refreshes = (sent) => sent.filter((r) => r.url.endsWith("/api/v1/auth/refresh")).length;

test("an expired access token is refreshed once for concurrent calls, then the calls go through", { skip: needsSigningKey }, async () => {
  const { transport, sent } = recordingTransport();
  const store = memoryTokenStore();
  const expiredSessions = [];
  const { client, user, tokens } = await registeredClient({ transport, tokenStore: store, onSessionExpired: (e) => expiredSessions.push(e) });

  // The minted token is one the server accepts while it is valid, and refuses once expired
  // (past the server's 5 s leeway). Asked with plain fetch: the client would refresh.
  const me = (token) => fetch(`${baseUrl}/api/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal((await me(accessToken(user.id, -60))).status, 200);
  const expired = accessToken(user.id, 30);
  const refused = await me(expired);
  assert.equal(refused.status, 401);
  assert.equal((await refused.json()).error.code, "invalid_token");

  store.set({ ...tokens, access_token: expired });
  sent.length = 0;
  const answers = await Promise.all([client.GET("/api/v1/me"), client.GET("/api/v1/cart"), client.GET("/api/v1/me/addresses")]);
  assert.equal(answers[0].data.id, user.id);
  assert.equal(answers[1].data.line_count, 0);
  assert.deepEqual(answers[2].data.items, []);
  assert.equal(refreshes(sent), 1, "one refresh for three refused calls");
  assert.equal(sent.length, 7, "three refused calls, one refresh, three retries");

  const renewed = store.get();
  assert.notEqual(renewed.access_token, expired);
  assert.notEqual(renewed.refresh_token, tokens.refresh_token, "the refresh token was rotated and stored");
  assert.deepEqual(expiredSessions, []);
});

test("a refresh token used elsewhere ends the session: tokens cleared, onSessionExpired once", { skip: needsSigningKey }, async () => {
  const { transport, sent } = recordingTransport();
  const store = memoryTokenStore();
  const expiredSessions = [];
  const { client, user, tokens } = await registeredClient({ transport, tokenStore: store, onSessionExpired: (e) => expiredSessions.push(e) });

  // Someone else refreshes with the same token first (a copied token, say): the server
  // rotates it, and the client's own refresh is then a reuse that revokes the login.
  await createClient({ baseUrl }).POST("/api/v1/auth/refresh", { body: { refresh_token: tokens.refresh_token } });

  store.set({ ...tokens, access_token: accessToken(user.id, 30) });
  sent.length = 0;
  const results = await Promise.allSettled([client.GET("/api/v1/me"), client.GET("/api/v1/cart")]);
  for (const result of results) {
    assert.equal(result.status, "rejected");
    assert.ok(result.reason instanceof ApiError);
    assert.equal(result.reason.status, 401);
    assert.equal(result.reason.code, "invalid_token");
  }
  assert.equal(refreshes(sent), 1);
  assert.equal(store.get(), null, "the tokens are cleared");
  assert.equal(expiredSessions.length, 1, "the app hears of it once");
  assert.equal(expiredSessions[0].code, "refresh_token_reused");

  // Logged out now: the next call goes without a token and does not try to refresh.
  sent.length = 0;
  const anonymous = await client.GET("/api/v1/me").catch((error) => error);
  assert.equal(anonymous.code, "missing_token");
  assert.equal(sent.length, 1);
  assert.equal(sent[0].headers.Authorization, undefined);
});

test("logging out clears the stored session", { skip: needsSigningKey }, async () => {
  const store = memoryTokenStore();
  const { client, tokens } = await registeredClient({ tokenStore: store });
  const out = await client.POST("/api/v1/auth/logout", { body: { refresh_token: tokens.refresh_token } });
  assert.equal(out.status, 204);
  assert.equal(out.data, undefined);
  assert.equal(store.get(), null);
  const refused = await createClient({ baseUrl })
    .POST("/api/v1/auth/refresh", { body: { refresh_token: tokens.refresh_token } })
    .catch((error) => error);
  assert.equal(refused.code, "invalid_refresh_token", "the server ended the login too");
});
