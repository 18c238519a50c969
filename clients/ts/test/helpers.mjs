// Shared by the client's tests: they run against a real Minimart at $MINIMART_URL (the Go
// test in test/e2e/clients_test.go starts one and sets it, with $MINIMART_TEST_JWT_SECRET,
// the key that server signs access tokens with).
import { createHmac, randomBytes } from "node:crypto";
import { createClient, fetchTransport } from "../dist/esm/index.js";

export const baseUrl = process.env.MINIMART_URL;
const jwtSecret = process.env.MINIMART_TEST_JWT_SECRET;

if (!baseUrl && process.env.MINIMART_REQUIRE_SERVICES === "1") {
  throw new Error("MINIMART_URL is not set (and MINIMART_REQUIRE_SERVICES=1): run these tests through go test ./test/e2e/ -run TestTSClient");
}

/** node:test's skip option for tests that need the server. */
export const needsServer = baseUrl ? false : "SKIPPED: MINIMART_URL is not set (go test ./test/e2e/ -run TestTSClient sets it)";

/** Skip option for tests that also mint access tokens. */
export const needsSigningKey =
  needsServer || (jwtSecret ? false : "SKIPPED: MINIMART_TEST_JWT_SECRET is not set (go test ./test/e2e/ -run TestTSClient sets it)");

/** A transport that records every request it sends, for tests that count calls. */
export function recordingTransport(inner = fetchTransport()) {
  const sent = [];
  const transport = async (request) => {
    sent.push(request);
    return inner(request);
  };
  return { transport, sent };
}

/** Fresh buyer credentials: a unique username and a password that follows the rules. */
export function newCredentials() {
  const id = randomBytes(6).toString("hex");
  return { username: `ts_${id}`, password: `Secret-${id}-9` };
}

/** A client with a newly registered buyer logged in. */
export async function registeredClient(options = {}) {
  const client = createClient({ baseUrl, ...options });
  const credentials = newCredentials();
  const registered = await client.POST("/api/v1/auth/register", { body: credentials });
  return { client, credentials, user: registered.data.user, tokens: registered.data.tokens };
}

/**
 * An access token for userId signed with the server's key, as the server would issue it,
 * that expired `secondsAgo` ago (negative: still valid then). Lets a test see a real
 * expired token without waiting out the server's shortest lifetime (one minute).
 */
export function accessToken(userId, secondsAgo) {
  const now = Math.floor(Date.now() / 1000);
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${encode({ alg: "HS256", typ: "JWT" })}.${encode({
    iss: "minimart",
    sub: userId,
    aud: ["buyer"],
    iat: now - secondsAgo - 60,
    exp: now - secondsAgo,
  })}`;
  return `${unsigned}.${createHmac("sha256", jwtSecret).update(unsigned).digest("base64url")}`;
}

/** A delivery address every test may use. */
export const address = {
  recipient: "王小明",
  phone: "13800000000",
  province: "浙江省",
  city: "杭州市",
  district: "西湖区",
  detail: "文三路 100 号",
};

/** Polls check() until it returns a value other than undefined, for at most timeoutMs. */
export async function eventually(what, check, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
