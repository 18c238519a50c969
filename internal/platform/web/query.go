package web

import (
	"math"
	"net/http"
	"strconv"
)

// QueryInt reads the query parameter name as a whole number from lo to hi: def when it is
// absent or empty, anything else a 400 invalid_parameter naming it and its bounds. A hi of
// the type's largest value leaves it unbounded above (the caller may lower a large value).
func QueryInt[T ~int | ~int64](r *http.Request, name string, def, lo, hi T) (T, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err == nil && n >= int64(lo) && n <= int64(hi) {
		return T(n), nil
	}
	if h := int64(hi); h == math.MaxInt64 || h == math.MaxInt {
		return 0, ErrInvalidParam.Withf("%s must be a whole number of at least %d", name, lo)
	}
	return 0, ErrInvalidParam.Withf("%s must be a whole number from %d to %d", name, lo, hi)
}
