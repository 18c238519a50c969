package user

import (
	"context"
	"time"
)

// MiniProgramSession is what WeChat's code2session returns for a login code.
type MiniProgramSession struct {
	OpenID     string
	UnionID    string
	SessionKey string
}

// CodeExchanger turns a mini-program login code into the buyer's WeChat identity.
// Implemented by wechatlogin against WeChat's API; its errors are *errs.Error values whose
// codes say what the operator or the client must fix.
type CodeExchanger interface {
	Code2Session(ctx context.Context, code string) (MiniProgramSession, error)
}

// AttemptCounter counts failed logins in fixed windows shared by every instance; the
// platform cache (in-process or Redis) satisfies it.
type AttemptCounter interface {
	Incr(ctx context.Context, key string, window time.Duration) (count int64, remaining time.Duration, err error)
	Get(ctx context.Context, key string) (value []byte, found bool, err error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Delete(ctx context.Context, keys ...string) error
}
