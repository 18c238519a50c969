package promotion

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/minimart/minimart/internal/platform/ids"
)

// RedisAdmission is the Admission every process shares through Redis. A sale is one hash,
// so it is there or gone as a whole: field "r" is the remaining, field "u:<user id>" a
// buyer's count, field "k:<user id>:<key>" an admitted attempt. Each operation is one Lua
// script, atomic on the server.
type RedisAdmission struct {
	client redis.UniversalClient
	prefix string
}

var _ Admission = (*RedisAdmission)(nil)

// NewRedisAdmission keeps the filter in client under prefix (the shop's cache prefix, so
// several shops or test runs can share a server).
func NewRedisAdmission(client redis.UniversalClient, prefix string) *RedisAdmission {
	return &RedisAdmission{client: client, prefix: prefix}
}

const remainingField = "r"

func (r *RedisAdmission) key(saleID ids.ID) string {
	return r.prefix + "promotion:flash:" + saleID.String()
}

func buyerField(userID ids.ID) string { return "u:" + userID.String() }

func keyField(a BuyerKey) string { return "k:" + a.UserID.String() + ":" + a.Key }

// Replies of admitScript, in the order of Verdict.
var admitScript = redis.NewScript(`
local r = redis.call('HGET', KEYS[1], 'r')
if not r then return {0, 0} end
local b = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or 0)
local known = redis.call('HEXISTS', KEYS[1], ARGV[4])
local q = tonumber(ARGV[2])
if b + q > tonumber(ARGV[3]) then return {3, known} end
if tonumber(r) < q then return {2, known} end
redis.call('HINCRBY', KEYS[1], 'r', -q)
redis.call('HINCRBY', KEYS[1], ARGV[1], q)
redis.call('HSET', KEYS[1], ARGV[4], 1)
return {1, known}
`)

func (r *RedisAdmission) Admit(ctx context.Context, sale FilterSale, attempt BuyerKey, quantity int) (Verdict, bool, error) {
	res, err := admitScript.Run(ctx, r.client, []string{r.key(sale.ID)}, buyerField(attempt.UserID), quantity, sale.PerUserLimit,
		keyField(attempt)).Int64Slice()
	if err != nil {
		return VerdictUnknown, false, fmt.Errorf("promotion: redis admit: %w", err)
	}
	if len(res) != 2 || res[0] < int64(VerdictUnknown) || res[0] > int64(VerdictLimitReached) {
		return VerdictUnknown, false, fmt.Errorf("promotion: redis admit: unexpected reply %v", res)
	}
	return Verdict(res[0]), res[1] == 1, nil
}

var returnScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], 'r') == 0 then return 0 end
local q = tonumber(ARGV[2])
redis.call('HINCRBY', KEYS[1], 'r', q)
local b = redis.call('HGET', KEYS[1], ARGV[1])
if b then
  local n = tonumber(b) - q
  if n < 0 then n = 0 end
  redis.call('HSET', KEYS[1], ARGV[1], n)
end
return 1
`)

func (r *RedisAdmission) Return(ctx context.Context, saleID, userID ids.ID, quantity int) error {
	if err := returnScript.Run(ctx, r.client, []string{r.key(saleID)}, buyerField(userID), quantity).Err(); err != nil {
		return fmt.Errorf("promotion: redis return: %w", err)
	}
	return nil
}

// loadScript writes the whole state only if the hash is absent, so the first of several
// concurrent loaders wins and the others keep what it wrote (their reads may be older).
// HSET one field at a time: unpacking thousands of buyers into one call would pass Lua's
// stack limit.
var loadScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'r', ARGV[2])
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1
`)

func (r *RedisAdmission) Load(ctx context.Context, sale FilterSale, state FilterState) (bool, error) {
	// An expiry in the past would delete the hash at once and leave the sale unknown forever.
	until := max(sale.Until.UnixMilli(), time.Now().Add(time.Minute).UnixMilli())
	args := make([]any, 0, 2+2*len(state.Bought)+2*len(state.Keys))
	args = append(args, until, state.Remaining)
	for user, n := range state.Bought {
		args = append(args, buyerField(user), n)
	}
	for _, k := range state.Keys {
		args = append(args, keyField(k), 1)
	}
	loaded, err := loadScript.Run(ctx, r.client, []string{r.key(sale.ID)}, args...).Int64()
	if err != nil {
		return false, fmt.Errorf("promotion: redis load: %w", err)
	}
	return loaded == 1, nil
}

// setScript overwrites one field of a sale the filter holds.
var setScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], 'r') == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`)

func (r *RedisAdmission) SetRemaining(ctx context.Context, saleID ids.ID, remaining int) error {
	if err := setScript.Run(ctx, r.client, []string{r.key(saleID)}, remainingField, strconv.Itoa(remaining)).Err(); err != nil {
		return fmt.Errorf("promotion: redis set remaining: %w", err)
	}
	return nil
}

func (r *RedisAdmission) SetBought(ctx context.Context, saleID, userID ids.ID, bought int) error {
	if err := setScript.Run(ctx, r.client, []string{r.key(saleID)}, buyerField(userID), strconv.Itoa(bought)).Err(); err != nil {
		return fmt.Errorf("promotion: redis set bought: %w", err)
	}
	return nil
}

func (r *RedisAdmission) Remember(ctx context.Context, saleID ids.ID, attempt BuyerKey) error {
	if err := setScript.Run(ctx, r.client, []string{r.key(saleID)}, keyField(attempt), "1").Err(); err != nil {
		return fmt.Errorf("promotion: redis remember: %w", err)
	}
	return nil
}
