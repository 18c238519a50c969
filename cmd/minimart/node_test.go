package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// TestCommandsDrawIDsOnTheirOwnNode: a command beside a server must not hand out the ids
// the server hands out, so unless the environment names a node it draws ids as node 1023
// (the server's default is 0); a node that is named is used as it is.
func TestCommandsDrawIDsOnTheirOwnNode(t *testing.T) {
	created := regexp.MustCompile(`\(id (\d+)\)`)
	tests := []struct {
		name string
		vars map[string]string
		node int64
	}{
		{"no node named", nil, commandNodeID},
		{"MINIMART_NODE_ID", map[string]string{"MINIMART_NODE_ID": "7"}, 7},
		{"MINIMART_NODE_ID_OFFSET", map[string]string{"MINIMART_NODE_ID_OFFSET": "100"}, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := safeEnv(t, tt.vars)
			pw := filepath.Join(t.TempDir(), "pw")
			if err := os.WriteFile(pw, []byte("Op3rator-strong-pw\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			out, errOut, err := runTest(t, []string{"admin", "create", "--username", "ops1", "--password-file", pw, "--role", "operator"}, vars)
			if err != nil {
				t.Fatalf("admin create: %v\n%s", err, errOut)
			}
			m := created.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("admin create printed no id: %q", out)
			}
			id, err := strconv.ParseInt(m[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			// A snowflake id: 41 bits of time, 10 of node, 12 of sequence.
			if node := (id >> 12) & 0x3ff; node != tt.node {
				t.Fatalf("the id %d was drawn on node %d, want %d", id, node, tt.node)
			}
		})
	}
}
