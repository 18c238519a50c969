// Package userevents is the user module's contract with other modules: the events it
// publishes and their payloads. It imports only platform packages.
package userevents

import "github.com/minimart/minimart/internal/platform/ids"

// TypeRegistered is published when a buyer account is created.
const TypeRegistered = "user.registered"

// Registered is the payload of user.registered.
type Registered struct {
	UserID ids.ID `json:"user_id"`
	// Via is how the account was created: "password" or "wechat".
	Via string `json:"via"`
}
