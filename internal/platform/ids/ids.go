// Package ids makes time-ordered int64 identifiers and carries them as strings in JSON,
// because JavaScript clients lose precision above 2^53.
package ids

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/bwmarrin/snowflake"
)

// ID is a time-ordered identifier.
type ID int64

// Parse reads an ID from its decimal form, as it appears in paths and JSON.
func Parse(s string) (ID, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("id %q is not a positive decimal integer", s)
	}
	return ID(n), nil
}

func (id ID) String() string { return strconv.FormatInt(int64(id), 10) }

func (id ID) MarshalJSON() ([]byte, error) { return []byte(`"` + id.String() + `"`), nil }

// UnmarshalJSON accepts the string form and, for hand-written requests, a bare number.
func (id *ID) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	} else {
		s = string(b)
	}
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*id = v
	return nil
}

func (id ID) Value() (driver.Value, error) { return int64(id), nil }

func (id *ID) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		*id = ID(v)
	case []byte:
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return err
		}
		*id = ID(n)
	default:
		return fmt.Errorf("ids: cannot scan %T", src)
	}
	return nil
}

// Generator hands out unique IDs; each running instance needs its own node number (0–1023).
type Generator struct{ node *snowflake.Node }

// NewGenerator returns a generator for one node.
func NewGenerator(node int64) (*Generator, error) {
	n, err := snowflake.NewNode(node)
	if err != nil {
		return nil, fmt.Errorf("ids: node %d: %w", node, err)
	}
	return &Generator{node: n}, nil
}

// New returns the next ID; it is safe for concurrent use.
func (g *Generator) New() ID { return ID(g.node.Generate().Int64()) }
