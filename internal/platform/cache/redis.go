package cache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the Cache of the production shape: entries and counters are shared by every
// instance that uses the same server and prefix.
type Redis struct {
	client *redis.Client
	prefix string
}

// failFast is the default for each network timeout: a cache that answers slower than this
// is worth less than the database it fronts, and Loader falls back to the load instead.
const failFast = 200 * time.Millisecond

// NewRedis connects lazily to the server at rawURL (redis://[user:pass@]host:port/db, or
// rediss:// for TLS). Every key is stored as prefix+key, with prefix taken verbatim, so include
// a separator (e.g. "minimart:"). It does not contact the server: a Redis that is down at start
// must not keep the shop from starting; use Ping to check.
//
// Timeouts and retry counts given as URL query parameters (dial_timeout, read_timeout,
// write_timeout, pool_timeout, max_retries) win over the fail-fast defaults set here.
func NewRedis(rawURL string, prefix string) (*Redis, error) {
	client, err := NewRedisClient(rawURL)
	if err != nil {
		return nil, err
	}
	return &Redis{client: client, prefix: prefix}, nil
}

// NewRedisClient is the fail-fast client NewRedis uses, for other users of the cache's
// server (the flash-sale filter), which are likewise shortcuts worth less than the database
// behind them when Redis is slow or gone.
func NewRedisClient(rawURL string) (*redis.Client, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("cache: redis url: %w", err)
	}
	for _, d := range []*time.Duration{&opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.PoolTimeout} {
		if *d == 0 {
			*d = failFast
		}
	}
	if opt.MaxRetries == 0 {
		// One retry covers a pooled connection the server closed (restart, idle timeout)
		// without doubling the wait more than once when the server is really gone.
		opt.MaxRetries = 1
	}
	// go-redis otherwise dials up to 5 times with 100ms pauses inside every command, which
	// turns "connection refused" into half a second per request. The command retry above is
	// enough.
	opt.DialerRetries = 1
	// Lets a caller's shorter deadline cut a command short instead of waiting out the timeouts.
	opt.ContextTimeoutEnabled = true
	return redis.NewClient(opt), nil
}

var _ Cache = (*Redis)(nil)

func (r *Redis) key(k string) string { return r.prefix + k }

func (r *Redis) Get(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := r.client.Get(ctx, r.key(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("cache: redis get: %w", err)
	}
	return v, true, nil
}

func (r *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl < 0 {
		ttl = 0 // go-redis reads -1 as KEEPTTL; our contract says "no expiry"
	}
	if err := r.client.Set(ctx, r.key(key), value, ttl).Err(); err != nil {
		return fmt.Errorf("cache: redis set: %w", err)
	}
	return nil
}

func (r *Redis) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil // DEL without keys is a syntax error in Redis
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = r.key(k)
	}
	if err := r.client.Del(ctx, full...).Err(); err != nil {
		return fmt.Errorf("cache: redis delete: %w", err)
	}
	return nil
}

// incrScript does the increment and the window's start in one atomic step. INCR then PEXPIRE
// as two commands would leave a counter without expiry if the process died between them,
// locking the user out for good; the script also repairs such a key (PTTL -1) if one exists.
var incrScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`)

func (r *Redis) Incr(ctx context.Context, key string, window time.Duration) (int64, time.Duration, error) {
	if window <= 0 {
		return 0, 0, ErrBadWindow
	}
	ms := max(window.Milliseconds(), 1) // Redis expiry has millisecond resolution
	res, err := incrScript.Run(ctx, r.client, []string{r.key(key)}, ms).Int64Slice()
	if err != nil {
		if strings.Contains(err.Error(), "not an integer") {
			return 0, 0, fmt.Errorf("%w: %v", ErrNotInteger, err)
		}
		return 0, 0, fmt.Errorf("cache: redis incr: %w", err)
	}
	if len(res) != 2 {
		return 0, 0, fmt.Errorf("cache: redis incr: unexpected reply %v", res)
	}
	return res[0], time.Duration(res[1]) * time.Millisecond, nil
}

func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("cache: redis ping: %w", err)
	}
	return nil
}

// Close releases the connection pool.
func (r *Redis) Close() error { return r.client.Close() }
