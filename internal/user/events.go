package user

import "github.com/minimart/minimart/internal/platform/ids"

// EventRegistered is published when a buyer account is created.
const EventRegistered = "user.registered"

// Registered is the payload of user.registered.
type Registered struct {
	UserID ids.ID `json:"user_id"`
	// Via is how the account was created: "password" or "wechat".
	Via string `json:"via"`
}
