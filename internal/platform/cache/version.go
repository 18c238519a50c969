package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"
)

// A version key guards cached entries against fills that race an invalidation. Deleting a
// stale entry is not enough on its own: a fill that read the database before the change
// committed may write its value after the delete, and that value would then be served for
// the entry's whole TTL. So an invalidation first gives the version key a value it never
// had (Bump), then deletes the entries; a guarded fill (Loader.ReadGuarded) notes the
// version before it loads and, after writing, deletes its own write if the version moved.
//
// Version values are random, not counters: a version key that expired or was evicted and
// is then created again never comes back to a value a fill noted before, so a fill can
// never mistake a later invalidation for no change. Losing a version key only costs a
// dropped write.

// VersionTTL is how long a version key lives without being bumped. It does not need to
// outlast the entries it guards: a fill that finds its version gone drops what it wrote.
const VersionTTL = 24 * time.Hour

// Bump gives versionKey a new value, so that every fill that noted the old one drops what
// it writes. Call it after the change committed and before deleting the entries.
func Bump(ctx context.Context, c Cache, versionKey string) error {
	return c.Set(ctx, versionKey, newVersion(), VersionTTL)
}

// currentVersion returns versionKey's value, giving it one when it has none. It returns ""
// when the cache does not keep the key (a full Memory may decline a new entry): a fill
// cannot be guarded then and must not write.
func currentVersion(ctx context.Context, c Cache, versionKey string) (string, error) {
	v, found, err := c.Get(ctx, versionKey)
	if err != nil || found {
		return string(v), err
	}
	// Two fills creating the version at once overwrite each other; each then reads back
	// what is there, and a Bump after that read still moves it.
	if err := c.Set(ctx, versionKey, newVersion(), VersionTTL); err != nil {
		return "", err
	}
	v, _, err = c.Get(ctx, versionKey)
	return string(v), err
}

func newVersion() []byte {
	b := make([]byte, 12)
	rand.Read(b)
	return []byte(hex.EncodeToString(b))
}
