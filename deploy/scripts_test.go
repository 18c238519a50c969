package deploy_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

var scripts = []string{"local/split.sh", "local/nginx-conf.sh", "mysql/users.sh"}

// The shell scripts parse, and pass shellcheck where it is installed (a lint: its absence is
// noted, not failed). split.sh's behaviour needs the built binary and every service; it was
// run by hand (docs/deploy.md) and the end-to-end tests drive it.
func TestShellScriptsParse(t *testing.T) {
	for _, s := range scripts {
		if out, err := exec.Command("bash", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v\n%s", s, err, out)
		}
	}
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Log("shellcheck is not installed; only bash -n was run")
		return
	}
	if out, err := exec.Command(sc, scripts...).CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

// nginx-conf.sh refuses what would make a broken or surprising configuration, before writing.
func TestNginxConfScriptRejectsBadArguments(t *testing.T) {
	all := []string{"user=127.0.0.1:1", "product=127.0.0.1:2", "order=127.0.0.1:3", "payment=127.0.0.1:4"}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"a service missing", []string{"127.0.0.1:80", all[0], all[1], all[2]}, "no instances for payment"},
		{"an unknown service", append([]string{"127.0.0.1:80", "search=127.0.0.1:5"}, all...), "unknown service"},
		{"an address without a port", append([]string{"127.0.0.1:80", "user=127.0.0.1"}, all[1:]...), "bad address"},
		{"an address with a directive", append([]string{"127.0.0.1:80", "user=127.0.0.1:1;include"}, all[1:]...), "bad address"},
		{"a bad listen address", append([]string{"80; evil"}, all...), "bad listen address"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			out, err := exec.Command("bash", append([]string{"local/nginx-conf.sh", dir}, c.args...)...).CombinedOutput()
			if err == nil || !strings.Contains(string(out), c.want) {
				t.Errorf("got %v %q, want a failure saying %q", err, out, c.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("wrote %d files before refusing", len(entries))
			}
		})
	}
}
