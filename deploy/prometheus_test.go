package deploy_test

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// promtoolBinary finds promtool (Debian's prometheus package), or skips the test (fails it
// when MINIMART_REQUIRE_SERVICES=1, as in CI).
func promtoolBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	if os.Getenv("MINIMART_REQUIRE_SERVICES") == "1" {
		t.Fatal("promtool is not installed and MINIMART_REQUIRE_SERVICES=1")
	}
	t.Skip("promtool is not installed (apt-get install prometheus); skipping")
	return ""
}

// Prometheus's own checks: the scrape config and the rules it loads are valid, and every
// alert's unit tests in alerts_test.yml pass.
func TestPromtool(t *testing.T) {
	promtool := promtoolBinary(t)
	for _, args := range [][]string{
		{"check", "config", "prometheus.yml"},
		{"check", "rules", "alerts.yml"},
		{"test", "rules", "alerts_test.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

type alertRule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func readAlertRules(t *testing.T) []alertRule {
	t.Helper()
	var f struct {
		Groups []struct {
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(readFile(t, "prometheus/alerts.yml"), &f); err != nil {
		t.Fatal(err)
	}
	var rules []alertRule
	for _, g := range f.Groups {
		rules = append(rules, g.Rules...)
	}
	return rules
}

// markdownAnchors are the anchors GitHub gives the headings of a Markdown file: lower case,
// punctuation dropped, spaces as hyphens. Lines in fenced code blocks are not headings.
func markdownAnchors(doc string) map[string]bool {
	drop := regexp.MustCompile(`[^\p{L}\p{N} _-]`)
	anchors := map[string]bool{}
	fenced := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		if fenced || !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		anchors[strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(title), ""), " ", "-")] = true
	}
	return anchors
}

// Every alert the issue asks for exists, waits before firing, says how bad it is and what
// happened, and links to its section of docs/operations.md; alerts_test.yml has a case
// where each fires and one where it must stay quiet.
func TestAlertRulesAreOperable(t *testing.T) {
	rules := readAlertRules(t)
	anchors := markdownAnchors(string(readFile(t, "../docs/operations.md")))
	var names []string
	for _, r := range rules {
		names = append(names, r.Alert)
		if r.For == "" {
			t.Errorf("%s has no for: (one bad scrape must not page anyone)", r.Alert)
		}
		if s := r.Labels["severity"]; s != "critical" && s != "warning" {
			t.Errorf("%s: severity %q, want critical or warning", r.Alert, s)
		}
		if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
			t.Errorf("%s lacks a summary or a description", r.Alert)
		}
		anchor, ok := strings.CutPrefix(r.Annotations["runbook_url"], "docs/operations.md#")
		if !ok || !anchors[anchor] {
			t.Errorf("%s: runbook_url %q is not a section of docs/operations.md", r.Alert, r.Annotations["runbook_url"])
		}
	}
	for _, want := range []string{"MinimartPaymentNotifyRejections", "MinimartOutboxStuck", "MinimartDeadLetters",
		"MinimartHighErrorRate", "MinimartHighLatency", "MinimartDBPoolSaturated", "MinimartInstanceDown", "MinimartStockOutRate"} {
		if !slices.Contains(names, want) {
			t.Errorf("alerts.yml has no %s", want)
		}
	}

	var tests struct {
		RuleFiles []string `yaml:"rule_files"`
		Tests     []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal(readFile(t, "prometheus/alerts_test.yml"), &tests); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tests.RuleFiles, []string{"alerts.yml"}) {
		t.Errorf("alerts_test.yml tests %v, want alerts.yml", tests.RuleFiles)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	for _, name := range names {
		if !fires[name] || !quiet[name] {
			t.Errorf("alerts_test.yml: %s is tested firing %v, not firing %v; want both", name, fires[name], quiet[name])
		}
	}

	var prom struct {
		RuleFiles []string `yaml:"rule_files"`
	}
	if err := yaml.Unmarshal(readFile(t, "prometheus/prometheus.yml"), &prom); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(prom.RuleFiles, "alerts.yml") {
		t.Errorf("prometheus.yml does not load alerts.yml (rule_files %v)", prom.RuleFiles)
	}
}
