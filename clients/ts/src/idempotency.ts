/**
 * A fresh Idempotency-Key (a version 4 UUID) for a call that must not happen twice: placing an
 * order, starting a payment. Make one per thing the user means to do and send the same key
 * again when retrying it, so a retry after a lost answer returns the first result.
 */
export function newIdempotencyKey(): string {
  const cryptoApi = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (cryptoApi?.randomUUID) {
    return cryptoApi.randomUUID();
  }
  // Mini-programs have no crypto.randomUUID. A key must be unique per buyer, not secret, so
  // Math.random is good enough here.
  return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, (c) => {
    const r = Math.floor(Math.random() * 16);
    return (c === "x" ? r : (r & 0x3) | 0x8).toString(16);
  });
}
