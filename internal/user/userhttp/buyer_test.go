package userhttp_test

import (
	"testing"
)

// An administrator reads one buyer with their addresses, the default first; operators,
// buyers and strangers cannot, and an unknown or malformed id is refused.
func TestStaffReadsABuyer(t *testing.T) {
	s := start(t, nil)
	admin := s.StaffToken("boss", "admin")
	operator := s.StaffToken("ops", "operator")
	id, buyer := s.Register("reader", "passw0rd-ok")
	lonelyID, _ := s.Register("lonely", "passw0rd-ok")
	for _, recipient := range []string{"张三", "李四"} {
		s.Expect(201, "POST", "/api/v1/me/addresses", buyer.AccessToken, map[string]any{"recipient": recipient,
			"phone": "13800000000", "province": "广东省", "city": "深圳市", "district": "南山区", "detail": "科技园 1 号"}, nil)
	}

	type detail struct {
		ID        string
		Username  string
		HasWeChat *bool `json:"has_wechat"`
		Addresses []struct {
			ID        string
			Recipient string
			IsDefault bool `json:"is_default"`
		}
	}
	var got detail
	s.Do("GET", "/api/v1/admin/users/"+id, admin, nil).Decode(t, &got)
	if got.ID != id || got.Username != "reader" || got.HasWeChat == nil || len(got.Addresses) != 2 ||
		got.Addresses[0].Recipient != "张三" || !got.Addresses[0].IsDefault || got.Addresses[1].IsDefault {
		t.Fatalf("buyer = %+v, want reader with the first address as the default, listed first", got)
	}
	r := s.Do("GET", "/api/v1/admin/users/"+lonelyID, admin, nil)
	got = detail{}
	r.Decode(t, &got)
	if r.Status != 200 || got.Addresses == nil || len(got.Addresses) != 0 {
		t.Fatalf("a buyer without addresses: %d %s", r.Status, r.Body)
	}

	cases := []struct {
		name, id, token string
		status          int
		code            string
	}{
		{"unknown buyer", "123", admin, 404, "user_not_found"},
		{"a staff member's id is no buyer's", s.Expect(200, "GET", "/api/v1/admin/me", operator, nil, nil)["id"].(string), admin, 404, "user_not_found"},
		{"not an id", "reader", admin, 400, "invalid_parameter"},
		{"id 0", "0", admin, 400, "invalid_parameter"},
		{"operator", id, operator, 403, "forbidden"},
		{"the buyer themself", id, buyer.AccessToken, 403, "forbidden"},
		{"no token", id, "", 401, "missing_token"},
		{"bad token", id, "not.a.token", 401, "invalid_token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.Do("GET", "/api/v1/admin/users/"+c.id, c.token, nil)
			if r.Status != c.status || r.ErrorCode() != c.code {
				t.Fatalf("got %d %q, want %d %q: %s", r.Status, r.ErrorCode(), c.status, c.code, r.Body)
			}
		})
	}
}
