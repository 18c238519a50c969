package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// These tests read compose.yaml, the Kubernetes manifests and the Dockerfile, and check what a
// reader would otherwise find out only when a deployment fails: every service is there with
// its modules and every variable it needs, peers point at something that serves the module,
// node ids cannot collide, probes hit the right endpoints, and no secret sits in plain text.

// The seed's split: each service's modules, and the modules it calls in another service.
var split = map[string]struct {
	modules string
	peers   []string // modules reached over MINIMART_PEER_<MODULE>
}{
	"user":    {modules: "user"},
	"product": {modules: "catalog,inventory", peers: []string{"order", "user"}},
	"order":   {modules: "order,cart,promotion", peers: []string{"catalog", "inventory", "user"}},
	"payment": {modules: "payment", peers: []string{"order", "user"}},
}

// Every instance of every service needs these.
var requiredVars = []string{
	"MINIMART_MODULES", "MINIMART_DB_URL", "MINIMART_REDIS_URL", "MINIMART_AMQP_URL",
	"MINIMART_JWT_SECRET", "MINIMART_SERVICE_TOKEN", "MINIMART_NODE_ID", "MINIMART_NODE_ID_OFFSET",
	"MINIMART_PUBLIC_URL", "MINIMART_TRUSTED_PROXIES", "MINIMART_DATA_DIR", "MINIMART_ADDR",
}

var secretName = regexp.MustCompile(`SECRET|TOKEN|PASSWORD|_PASS$|_KEY`)

// secretLooking tells a variable that must never be written in plain text: by its name, or
// because its value is a URL that carries a password.
func secretLooking(name, value string) bool {
	if secretName.MatchString(strings.ToUpper(name)) {
		return true
	}
	u, err := url.Parse(strings.TrimSpace(value))
	if err != nil || u.User == nil {
		return false
	}
	_, hasPassword := u.User.Password()
	return hasPassword
}

// servesModule is the service whose MINIMART_MODULES include module m.
func servesModule(m string) string {
	for svc, s := range split {
		if slices.Contains(strings.Split(s.modules, ","), m) {
			return svc
		}
	}
	return ""
}

func peerVar(module string) string { return "MINIMART_PEER_" + strings.ToUpper(module) }

// ---------------------------------------------------------------------------------------
// compose

type composeService struct {
	Image       string            `yaml:"image"`
	Command     []string          `yaml:"command"`
	Profiles    []string          `yaml:"profiles"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	Networks    map[string]struct {
		IPv4Address string `yaml:"ipv4_address"`
	} `yaml:"networks"`
}

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
	Secrets  map[string]struct {
		Environment string `yaml:"environment"`
	} `yaml:"secrets"`
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	var c composeFile
	if err := yaml.Unmarshal(readFile(t, "compose.yaml"), &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return c
}

// interpolation is compose's ${VAR}, ${VAR:-default}, ${VAR:?message}.
var interpolation = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}`)

// resolve replaces every ${…} by a marker naming the variable, so the value can be parsed.
func resolve(v string) string {
	return interpolation.ReplaceAllString(v, "from-env-$1")
}

// composeInstances are the compose services that run Minimart, by name.
func composeInstances(c composeFile) map[string]composeService {
	out := map[string]composeService{}
	for name, s := range c.Services {
		if _, ok := s.Environment["MINIMART_MODULES"]; ok {
			out[name] = s
		}
	}
	return out
}

func TestComposeRunsEveryServiceTwice(t *testing.T) {
	c := loadCompose(t)
	running := map[string][]string{} // service → its long-running instances
	for name, s := range composeInstances(c) {
		svc, _, ok := strings.Cut(name, "-")
		if len(s.Profiles) > 0 {
			continue // one-shot commands, run by hand
		}
		if !ok || split[svc].modules == "" {
			t.Errorf("%s runs Minimart but is not named <service>-<n> for one of %v", name, slices.Sorted(maps.Keys(split)))
			continue
		}
		if got := s.Environment["MINIMART_MODULES"]; got != split[svc].modules {
			t.Errorf("%s: MINIMART_MODULES=%q, want %q", name, got, split[svc].modules)
		}
		running[svc] = append(running[svc], name)
	}
	for svc := range split {
		if len(running[svc]) != 2 {
			t.Errorf("%s has instances %v, want two", svc, running[svc])
		}
	}
}

func TestComposeEnvironment(t *testing.T) {
	c := loadCompose(t)
	instances := composeInstances(c)
	databases := map[string]string{} // database name → service
	for name, s := range instances {
		env := s.Environment
		svc, _, _ := strings.Cut(name, "-")
		if s.Profiles != nil {
			svc = serviceOfModules(env["MINIMART_MODULES"])
		}
		for _, v := range requiredVars {
			if strings.TrimSpace(env[v]) == "" {
				t.Errorf("%s: %s is missing", name, v)
			}
		}

		// Its own database on the compose MySQL, as its own user.
		u, err := url.Parse(resolve(env["MINIMART_DB_URL"]))
		if err != nil || u.Scheme != "mysql" {
			t.Errorf("%s: MINIMART_DB_URL %q is not a mysql:// URL", name, env["MINIMART_DB_URL"])
			continue
		}
		db := strings.TrimPrefix(u.Path, "/")
		if other, ok := databases[db]; ok && other != svc {
			t.Errorf("%s shares database %s with %s", name, db, other)
		}
		databases[db] = svc
		if want := "minimart_" + svc; db != want || u.User.Username() != want {
			t.Errorf("%s: database %s as user %s, want %s as %s (mysql/init.sql, mysql/users.sh)", name, db, u.User.Username(), want, want)
		}
		for v, wantHost := range map[string]string{"MINIMART_DB_URL": "mysql", "MINIMART_REDIS_URL": "redis", "MINIMART_AMQP_URL": "rabbitmq"} {
			u, err := url.Parse(resolve(env[v]))
			if err != nil {
				t.Errorf("%s: %s: %v", name, v, err)
				continue
			}
			if u.Hostname() != wantHost {
				t.Errorf("%s: %s points at %q, want the compose service %s", name, v, u.Hostname(), wantHost)
			}
			if _, ok := c.Services[u.Hostname()]; !ok {
				t.Errorf("%s: %s names %s, which compose.yaml does not define", name, v, u.Hostname())
			}
		}
		if n, err := strconv.Atoi(env["MINIMART_NODE_ID"]); err != nil || n < 0 || n > 1023 {
			t.Errorf("%s: MINIMART_NODE_ID=%q, want 0–1023", name, env["MINIMART_NODE_ID"])
		}

		// Peers: exactly the modules this service calls, each at instances that serve it.
		var gotPeers []string
		for v := range env {
			if strings.HasPrefix(v, "MINIMART_PEER_") {
				gotPeers = append(gotPeers, v)
			}
		}
		var wantPeers []string
		for _, m := range split[svc].peers {
			wantPeers = append(wantPeers, peerVar(m))
			for _, base := range strings.Split(env[peerVar(m)], ",") {
				u, err := url.Parse(base)
				if err != nil || u.Scheme != "http" || u.Path != "" {
					t.Errorf("%s: %s has %q, want http://<instance>:<port>", name, peerVar(m), base)
					continue
				}
				peer, ok := instances[u.Hostname()]
				if !ok || !slices.Contains(strings.Split(peer.Environment["MINIMART_MODULES"], ","), m) {
					t.Errorf("%s: %s names %q, which is no compose service serving %s", name, peerVar(m), u.Hostname(), m)
					continue
				}
				if _, port, _ := net.SplitHostPort(peer.Environment["MINIMART_ADDR"]); port != u.Port() {
					t.Errorf("%s: %s uses port %s; %s listens on %q", name, peerVar(m), u.Port(), u.Hostname(), peer.Environment["MINIMART_ADDR"])
				}
			}
		}
		slices.Sort(gotPeers)
		slices.Sort(wantPeers)
		if !slices.Equal(gotPeers, wantPeers) {
			t.Errorf("%s: peer variables %v, want %v", name, gotPeers, wantPeers)
		}
	}

	// The databases compose's MySQL creates on its first start are the ones the services use.
	created := regexp.MustCompile(`(?i)CREATE DATABASE IF NOT EXISTS\s+(\w+)`).FindAllStringSubmatch(string(readFile(t, "mysql/init.sql")), -1)
	var createdNames []string
	for _, m := range created {
		createdNames = append(createdNames, m[1])
	}
	slices.Sort(createdNames)
	if used := slices.Sorted(maps.Keys(databases)); !slices.Equal(createdNames, used) {
		t.Errorf("mysql/init.sql creates %v; the services use %v", createdNames, used)
	}
}

func serviceOfModules(modules string) string {
	for svc, s := range split {
		if s.modules == modules {
			return svc
		}
	}
	return ""
}

// Effective node ids (MINIMART_NODE_ID + MINIMART_NODE_ID_OFFSET) identify one process across
// every service: two alike would hand out the same ids.
func TestComposeNodeIDsAreUnique(t *testing.T) {
	seen := map[int]string{}
	for name, s := range composeInstances(loadCompose(t)) {
		id, err1 := strconv.Atoi(s.Environment["MINIMART_NODE_ID"])
		off, err2 := strconv.Atoi(s.Environment["MINIMART_NODE_ID_OFFSET"])
		if err1 != nil || err2 != nil {
			t.Errorf("%s: node id %q offset %q are not numbers", name, s.Environment["MINIMART_NODE_ID"], s.Environment["MINIMART_NODE_ID_OFFSET"])
			continue
		}
		if id+off < 0 || id+off > 1023 {
			t.Errorf("%s: effective node id %d outside 0–1023", name, id+off)
		}
		if other, ok := seen[id+off]; ok {
			t.Errorf("%s and %s both have node id %d", name, other, id+off)
		}
		seen[id+off] = name
	}
}

// Secrets come from the environment (deploy/.env): compose.yaml holds only ${VAR} references.
func TestComposeHoldsNoSecrets(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		for k, v := range s.Environment {
			if !secretLooking(k, resolve(v)) {
				continue
			}
			if u, err := url.Parse(resolve(v)); err == nil && u.User != nil {
				if p, _ := u.User.Password(); !strings.HasPrefix(p, "from-env-") {
					t.Errorf("%s: %s has a literal password in its URL", name, k)
				}
			} else if !interpolation.MatchString(v) || interpolation.ReplaceAllString(v, "") != "" {
				t.Errorf("%s: %s=%q is secret and must be just a ${VAR:?} reference", name, k, v)
			}
		}
		for _, arg := range s.Command {
			if strings.Contains(arg, "${") {
				t.Errorf("%s: secret-looking interpolation in its command line %q (visible in ps): pass it in the environment", name, arg)
			}
		}
	}

	// env.example lists every variable compose.yaml requires, so filling it in is enough.
	required := map[string]bool{}
	var uncommented strings.Builder
	for _, line := range strings.Split(string(readFile(t, "compose.yaml")), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			uncommented.WriteString(line + "\n")
		}
	}
	for _, m := range interpolation.FindAllStringSubmatch(uncommented.String(), -1) {
		if m[2] == ":?" || m[2] == "?" {
			required[m[1]] = true
		}
	}
	for _, s := range c.Secrets {
		required[s.Environment] = true
	}
	listed := envFileKeys(t, "env.example")
	for v := range required {
		if !listed[v] {
			t.Errorf("compose.yaml requires %s; env.example does not list it", v)
		}
	}
	for v := range listed {
		if !required[v] {
			t.Errorf("env.example lists %s, which compose.yaml does not use", v)
		}
	}
}

// envFileKeys are the KEY= lines of an env file (comments skipped).
func envFileKeys(t *testing.T, path string) map[string]bool {
	t.Helper()
	keys := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(readFile(t, path)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = true
		}
	}
	return keys
}

func TestComposeWiring(t *testing.T) {
	c := loadCompose(t)
	instances := composeInstances(c)

	// nginx's upstreams list exactly each service's running instances, on their port.
	upstreams := parseUpstreams(t, "nginx/upstreams.conf")
	for svc := range split {
		var want []string
		for name, s := range instances {
			if strings.HasPrefix(name, svc+"-") && s.Profiles == nil {
				_, port, _ := net.SplitHostPort(s.Environment["MINIMART_ADDR"])
				want = append(want, name+":"+port)
			}
		}
		slices.Sort(want)
		got := slices.Sorted(slices.Values(upstreams["minimart_"+svc]))
		if !slices.Equal(got, want) {
			t.Errorf("nginx/upstreams.conf minimart_%s has %v, want the instances %v", svc, got, want)
		}
	}

	// Minimart trusts nginx's fixed address, and only that.
	nginx := c.Services["nginx"]
	ip := nginx.Networks["default"].IPv4Address
	if ip == "" {
		t.Fatal("nginx has no fixed address on the default network")
	}
	for name, s := range instances {
		if got := s.Environment["MINIMART_TRUSTED_PROXIES"]; got != ip+"/32" {
			t.Errorf("%s: MINIMART_TRUSTED_PROXIES=%q, want nginx's %s/32", name, got, ip)
		}
	}
	if !slices.ContainsFunc(nginx.Volumes, func(v string) bool { return strings.HasPrefix(v, "./nginx:") }) {
		t.Errorf("nginx does not mount ./nginx: %v", nginx.Volumes)
	}

	// Each instance has its own data volume (the search index must not be shared); the product
	// instances share one media volume (an image uploaded through one is served by all).
	owner := map[string]string{}
	for name, s := range instances {
		if s.Profiles != nil {
			continue
		}
		mounts := map[string]string{}
		for _, v := range s.Volumes {
			parts := strings.Split(v, ":")
			mounts[parts[1]] = parts[0]
		}
		data := mounts["/data"]
		if data == "" {
			t.Errorf("%s has no volume on /data", name)
		} else if other, ok := owner[data]; ok {
			t.Errorf("%s and %s share the data volume %s", name, other, data)
		}
		owner[data] = name
		if _, ok := c.Volumes[data]; !ok {
			t.Errorf("%s: volume %s is not declared", name, data)
		}
		if strings.HasPrefix(name, "product-") && mounts["/data/media"] != "product-media" {
			t.Errorf("%s does not mount the shared product-media volume on /data/media", name)
		}
	}

	// Prometheus scrapes every running instance on its operator listener.
	var prom struct {
		ScrapeConfigs []struct {
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(readFile(t, "prometheus/prometheus.yml"), &prom); err != nil {
		t.Fatal(err)
	}
	scraped := map[string]bool{}
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				scraped[target] = true
			}
		}
	}
	for name, s := range instances {
		_, port, _ := net.SplitHostPort(s.Environment["MINIMART_OPS_ADDR"])
		if s.Profiles == nil && (port == "" || !scraped[name+":"+port]) {
			t.Errorf("prometheus.yml does not scrape %s on its operator port (MINIMART_OPS_ADDR %q)", name, s.Environment["MINIMART_OPS_ADDR"])
		}
	}
}

// parseUpstreams reads the servers of each upstream block of an nginx file.
func parseUpstreams(t *testing.T, path string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	block := regexp.MustCompile(`(?s)upstream\s+(\w+)\s*\{(.*?)\}`)
	server := regexp.MustCompile(`(?m)^\s*server\s+(\S+?)(?:\s|;)`)
	for _, b := range block.FindAllStringSubmatch(string(readFile(t, path)), -1) {
		for _, s := range server.FindAllStringSubmatch(b[2], -1) {
			out[b[1]] = append(out[b[1]], s[1])
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no upstream blocks", path)
	}
	return out
}

// ---------------------------------------------------------------------------------------
// Kubernetes

type envVar struct {
	Name      string `yaml:"name"`
	Value     string `yaml:"value"`
	ValueFrom *struct {
		FieldRef *struct {
			FieldPath string `yaml:"fieldPath"`
		} `yaml:"fieldRef"`
		SecretKeyRef *struct {
			Name string `yaml:"name"`
			Key  string `yaml:"key"`
		} `yaml:"secretKeyRef"`
		ConfigMapKeyRef *struct {
			Name string `yaml:"name"`
			Key  string `yaml:"key"`
		} `yaml:"configMapKeyRef"`
	} `yaml:"valueFrom"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

type container struct {
	Name    string   `yaml:"name"`
	Image   string   `yaml:"image"`
	Args    []string `yaml:"args"`
	Env     []envVar `yaml:"env"`
	EnvFrom []struct {
		ConfigMapRef *struct {
			Name string `yaml:"name"`
		} `yaml:"configMapRef"`
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	StartupProbe   *probe `yaml:"startupProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
}

type podTemplate struct {
	Metadata struct {
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Spec struct {
		Containers []container `yaml:"containers"`
	} `yaml:"spec"`
}

type k8sObject struct {
	file       string
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		// StatefulSet, Deployment, Job
		ServiceName string      `yaml:"serviceName"`
		Replicas    *int        `yaml:"replicas"`
		Template    podTemplate `yaml:"template"`
		// Service
		ClusterIP string        `yaml:"clusterIP"`
		Selector  yaml.Node     `yaml:"selector"` // a Service's map, or a workload's/PDB's {matchLabels}
		Ports     []servicePort `yaml:"ports"`
		// HorizontalPodAutoscaler
		ScaleTargetRef struct {
			Kind string `yaml:"kind"`
			Name string `yaml:"name"`
		} `yaml:"scaleTargetRef"`
		MinReplicas int `yaml:"minReplicas"`
		MaxReplicas int `yaml:"maxReplicas"`
	} `yaml:"spec"`
}

type servicePort struct {
	Name       string `yaml:"name"`
	Port       int    `yaml:"port"`
	TargetPort any    `yaml:"targetPort"`
}

// selector is the label selector of a Service (a plain map) or of a workload or PDB (matchLabels).
func (o k8sObject) selector(t *testing.T) map[string]string {
	t.Helper()
	var sel struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	}
	if o.Kind == "Service" {
		var m map[string]string
		if err := o.Spec.Selector.Decode(&m); err != nil {
			t.Fatalf("%s %s: selector: %v", o.Kind, o.Metadata.Name, err)
		}
		return m
	}
	if err := o.Spec.Selector.Decode(&sel); err != nil {
		t.Fatalf("%s %s: selector: %v", o.Kind, o.Metadata.Name, err)
	}
	return sel.MatchLabels
}

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

type kustomization struct {
	Resources       []string `yaml:"resources"`
	SecretGenerator []struct {
		Name string   `yaml:"name"`
		Envs []string `yaml:"envs"`
	} `yaml:"secretGenerator"`
}

func loadKustomization(t *testing.T, dir string) kustomization {
	t.Helper()
	var k kustomization
	if err := yaml.Unmarshal(readFile(t, filepath.Join(dir, "kustomization.yaml")), &k); err != nil {
		t.Fatal(err)
	}
	return k
}

// loadManifests reads every object of every file the kustomizations list (the base and init/).
func loadManifests(t *testing.T) []k8sObject {
	t.Helper()
	var files []string
	for _, dir := range []string{"kubernetes", "kubernetes/init"} {
		for _, r := range loadKustomization(t, dir).Resources {
			if p := filepath.Join(dir, r); strings.HasSuffix(r, ".yaml") {
				files = append(files, p)
			}
		}
	}
	var objs []k8sObject
	for _, f := range files {
		dec := yaml.NewDecoder(bytes.NewReader(readFile(t, f)))
		for {
			var o k8sObject
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			o.file = f
			objs = append(objs, o)
		}
	}
	return objs
}

func byKind(objs []k8sObject, kind string) []k8sObject {
	var out []k8sObject
	for _, o := range objs {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

func find(objs []k8sObject, kind, name string) (k8sObject, bool) {
	for _, o := range objs {
		if o.Kind == kind && o.Metadata.Name == name {
			return o, true
		}
	}
	return k8sObject{}, false
}

// Every manifest file is in the kustomization, and everything it lists exists.
func TestKustomizationListsEveryManifest(t *testing.T) {
	for _, dir := range []string{"kubernetes", "kubernetes/init"} {
		listed := map[string]bool{}
		for _, r := range loadKustomization(t, dir).Resources {
			listed[r] = true
			if _, err := os.Stat(filepath.Join(dir, r)); err != nil {
				t.Errorf("%s/kustomization.yaml lists %s: %v", dir, r, err)
			}
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, f := range files {
			if base := filepath.Base(f); base != "kustomization.yaml" && !listed[base] {
				t.Errorf("%s is not in %s/kustomization.yaml", f, dir)
			}
		}
	}
	if !loadKustomizationHasSecret(loadKustomization(t, "kubernetes")) {
		t.Error("kubernetes/kustomization.yaml does not generate minimart-secrets from secrets.env")
	}
}

func loadKustomizationHasSecret(k kustomization) bool {
	for _, g := range k.SecretGenerator {
		if g.Name == "minimart-secrets" && slices.Equal(g.Envs, []string{"secrets.env"}) {
			return true
		}
	}
	return false
}

// containerEnv is a container's variables: name → the variable (ConfigMap keys from envFrom
// as plain values).
func containerEnv(t *testing.T, objs []k8sObject, c container) map[string]envVar {
	t.Helper()
	env := map[string]envVar{}
	for _, ef := range c.EnvFrom {
		if ef.SecretRef != nil {
			t.Errorf("container %s takes a whole Secret (%s): name each variable, so a service sees only its own", c.Name, ef.SecretRef.Name)
		}
		if ef.ConfigMapRef == nil {
			continue
		}
		cm, ok := find(objs, "ConfigMap", ef.ConfigMapRef.Name)
		if !ok {
			t.Errorf("container %s: no ConfigMap %s", c.Name, ef.ConfigMapRef.Name)
			continue
		}
		for k, v := range cm.Data {
			env[k] = envVar{Name: k, Value: v}
		}
	}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	return env
}

func TestKubernetesServices(t *testing.T) {
	objs := loadManifests(t)
	secretKeys := envFileKeys(t, "kubernetes/secrets.env.example")
	sets := byKind(objs, "StatefulSet")
	var names []string
	for _, s := range sets {
		names = append(names, s.Metadata.Name)
	}
	if want := slices.Sorted(maps.Keys(split)); !slices.Equal(slices.Sorted(slices.Values(names)), want) {
		t.Fatalf("StatefulSets %v, want %v", names, want)
	}
	dbKeys := map[string]string{}
	for _, ss := range sets {
		svc := ss.Metadata.Name
		t.Run(svc, func(t *testing.T) {
			if len(ss.Spec.Template.Spec.Containers) != 1 {
				t.Fatalf("%d containers, want 1", len(ss.Spec.Template.Spec.Containers))
			}
			c := ss.Spec.Template.Spec.Containers[0]
			env := containerEnv(t, objs, c)
			for _, v := range requiredVars {
				if e, ok := env[v]; !ok || (e.Value == "" && e.ValueFrom == nil) {
					t.Errorf("%s is missing", v)
				}
			}
			if got := env["MINIMART_MODULES"].Value; got != split[svc].modules {
				t.Errorf("MINIMART_MODULES=%q, want %q", got, split[svc].modules)
			}

			// Secrets only from the Secret, each key one secrets.env.example lists.
			for name, e := range env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					ref := e.ValueFrom.SecretKeyRef
					if ref.Name != "minimart-secrets" || !secretKeys[ref.Key] {
						t.Errorf("%s comes from secret %s key %s, which secrets.env.example does not list", name, ref.Name, ref.Key)
					}
					continue
				}
				if secretLooking(name, e.Value) || strings.HasSuffix(name, "_URL") && name != "MINIMART_PUBLIC_URL" {
					t.Errorf("%s is given in plain text; take it from minimart-secrets", name)
				}
			}
			if ref := env["MINIMART_DB_URL"].ValueFrom; ref != nil && ref.SecretKeyRef != nil {
				if other, ok := dbKeys[ref.SecretKeyRef.Key]; ok {
					t.Errorf("uses the database of %s (%s)", other, ref.SecretKeyRef.Key)
				}
				dbKeys[ref.SecretKeyRef.Key] = svc
			}

			// The node id is the pod's ordinal, from the downward API.
			if ref := env["MINIMART_NODE_ID"].ValueFrom; ref == nil || ref.FieldRef == nil ||
				ref.FieldRef.FieldPath != "metadata.labels['apps.kubernetes.io/pod-index']" {
				t.Errorf("MINIMART_NODE_ID must come from the pod-index label through the downward API")
			}

			// Probes: ready = /readyz (503 while the database is down), alive = /healthz.
			for _, p := range []struct {
				name  string
				probe *probe
				path  string
			}{{"readiness", c.ReadinessProbe, "/readyz"}, {"liveness", c.LivenessProbe, "/healthz"}} {
				if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path {
					t.Errorf("%s probe is not GET %s", p.name, p.path)
				} else if !probePortIsContainerPort(c, p.probe.HTTPGet.Port, env["MINIMART_ADDR"].Value) {
					t.Errorf("%s probe port %v is not the port Minimart listens on (%s)", p.name, p.probe.HTTPGet.Port, env["MINIMART_ADDR"].Value)
				}
			}
			// Prometheus scrapes the operator listener, a container port of its own.
			ops := env["MINIMART_OPS_ADDR"].Value
			_, opsPort, _ := net.SplitHostPort(ops)
			annotations := ss.Spec.Template.Metadata.Annotations
			if opsPort == "" || annotations["prometheus.io/scrape"] != "true" || annotations["prometheus.io/port"] != opsPort ||
				annotations["prometheus.io/path"] != "/metrics" {
				t.Errorf("scrape annotations %v do not name the operator listener (MINIMART_OPS_ADDR %q) and /metrics", annotations, ops)
			}
			if !probePortIsContainerPort(c, "ops", ops) {
				t.Errorf("no container port named ops is the operator port %s", opsPort)
			}
			if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
				t.Errorf("resources: requests %v limits %v; want cpu and memory requests and a memory limit", c.Resources.Requests, c.Resources.Limits)
			}

			// The StatefulSet's governing Service is headless and selects its pods.
			labels := ss.Spec.Template.Metadata.Labels
			if !selects(ss.selector(t), labels) {
				t.Errorf("selector %v does not match the pod labels %v", ss.selector(t), labels)
			}
			headless, ok := find(objs, "Service", ss.Spec.ServiceName)
			if !ok || headless.Spec.ClusterIP != "None" || !selects(headless.selector(t), labels) {
				t.Errorf("serviceName %q is not a headless Service selecting these pods", ss.Spec.ServiceName)
			}
			// nginx's Service (a ClusterIP named like the service), a PDB and an autoscaler.
			if s, ok := find(objs, "Service", svc); !ok || s.Spec.ClusterIP == "None" || !selects(s.selector(t), labels) {
				t.Errorf("no ClusterIP Service %q selecting these pods", svc)
			}
			if !slices.ContainsFunc(byKind(objs, "PodDisruptionBudget"), func(p k8sObject) bool { return selects(p.selector(t), labels) }) {
				t.Errorf("no PodDisruptionBudget selects these pods")
			}
			if !slices.ContainsFunc(byKind(objs, "HorizontalPodAutoscaler"), func(h k8sObject) bool {
				return h.Spec.ScaleTargetRef.Kind == "StatefulSet" && h.Spec.ScaleTargetRef.Name == svc
			}) {
				t.Errorf("no HorizontalPodAutoscaler scales this StatefulSet")
			}

			// Peers: exactly the modules this service calls, each at a headless Service
			// selecting the pods of the service that serves the module.
			var gotPeers, wantPeers []string
			for name := range env {
				if strings.HasPrefix(name, "MINIMART_PEER_") {
					gotPeers = append(gotPeers, name)
				}
			}
			for _, m := range split[svc].peers {
				wantPeers = append(wantPeers, peerVar(m))
				checkK8sPeer(t, objs, peerVar(m), env[peerVar(m)].Value, servesModule(m))
			}
			slices.Sort(gotPeers)
			slices.Sort(wantPeers)
			if !slices.Equal(gotPeers, wantPeers) {
				t.Errorf("peer variables %v, want %v", gotPeers, wantPeers)
			}
		})
	}
}

func probePortIsContainerPort(c container, port any, addr string) bool {
	_, listen, _ := net.SplitHostPort(addr)
	for _, p := range c.Ports {
		if (p.Name == port || p.ContainerPort == port) && strconv.Itoa(p.ContainerPort) == listen {
			return true
		}
	}
	return false
}

// checkK8sPeer: value is dns://<headless Service>:<its port>, the Service selects the pods of
// the StatefulSet named target and sends that port to the port Minimart listens on.
func checkK8sPeer(t *testing.T, objs []k8sObject, name, value, target string) {
	t.Helper()
	u, err := url.Parse(value)
	if err != nil || u.Scheme != "dns" || u.Port() == "" || u.Path != "" {
		t.Errorf("%s=%q, want dns://<headless service>:<port>", name, value)
		return
	}
	svc, ok := find(objs, "Service", u.Hostname())
	if !ok || svc.Spec.ClusterIP != "None" {
		t.Errorf("%s names %q, which is no headless Service", name, u.Hostname())
		return
	}
	ss, _ := find(objs, "StatefulSet", target)
	if !selects(svc.selector(t), ss.Spec.Template.Metadata.Labels) {
		t.Errorf("%s: Service %s does not select the %s pods", name, u.Hostname(), target)
	}
	c := ss.Spec.Template.Spec.Containers[0]
	for _, p := range svc.Spec.Ports {
		if strconv.Itoa(p.Port) == u.Port() {
			if !probePortIsContainerPort(c, p.TargetPort, containerEnv(t, objs, c)["MINIMART_ADDR"].Value) {
				t.Errorf("%s: Service %s port %d goes to %v, not the port %s listens on", name, u.Hostname(), p.Port, p.TargetPort, target)
			}
			return
		}
	}
	t.Errorf("%s: Service %s has no port %s", name, u.Hostname(), u.Port())
}

// A StatefulSet's pods get node ids offset … offset+maxReplicas-1; the Jobs fixed ones. No two
// ranges may overlap, or two processes could hand out the same ids.
func TestKubernetesNodeIDRanges(t *testing.T) {
	objs := loadManifests(t)
	type span struct {
		lo, hi int
		who    string
	}
	var spans []span
	for _, ss := range byKind(objs, "StatefulSet") {
		env := containerEnv(t, objs, ss.Spec.Template.Spec.Containers[0])
		off, err := strconv.Atoi(env["MINIMART_NODE_ID_OFFSET"].Value)
		if err != nil {
			t.Errorf("%s: MINIMART_NODE_ID_OFFSET %q", ss.Metadata.Name, env["MINIMART_NODE_ID_OFFSET"].Value)
			continue
		}
		maxReplicas := *ss.Spec.Replicas
		for _, h := range byKind(objs, "HorizontalPodAutoscaler") {
			if h.Spec.ScaleTargetRef.Name == ss.Metadata.Name {
				maxReplicas = max(maxReplicas, h.Spec.MaxReplicas)
			}
		}
		spans = append(spans, span{off, off + maxReplicas - 1, "StatefulSet " + ss.Metadata.Name})
	}
	for _, j := range byKind(objs, "Job") {
		env := containerEnv(t, objs, j.Spec.Template.Spec.Containers[0])
		id, err1 := strconv.Atoi(env["MINIMART_NODE_ID"].Value)
		off, err2 := strconv.Atoi(env["MINIMART_NODE_ID_OFFSET"].Value)
		if err1 != nil || err2 != nil {
			t.Errorf("Job %s: node id %q offset %q must be fixed numbers", j.Metadata.Name, env["MINIMART_NODE_ID"].Value, env["MINIMART_NODE_ID_OFFSET"].Value)
			continue
		}
		spans = append(spans, span{id + off, id + off, "Job " + j.Metadata.Name})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].lo < spans[j].lo })
	for i, s := range spans {
		if s.lo < 0 || s.hi > 1023 {
			t.Errorf("%s: node ids %d–%d outside 0–1023", s.who, s.lo, s.hi)
		}
		if i > 0 && spans[i-1].hi >= s.lo {
			t.Errorf("%s (%d–%d) overlaps %s (%d–%d)", s.who, s.lo, s.hi, spans[i-1].who, spans[i-1].lo, spans[i-1].hi)
		}
	}
}

// The one-shot Jobs run with the same variables as their service.
func TestKubernetesJobs(t *testing.T) {
	objs := loadManifests(t)
	jobs := byKind(objs, "Job")
	if len(jobs) != 2 {
		t.Fatalf("%d Jobs, want the admin and the demo one", len(jobs))
	}
	for _, j := range jobs {
		c := j.Spec.Template.Spec.Containers[0]
		env := containerEnv(t, objs, c)
		for _, v := range requiredVars {
			if e, ok := env[v]; !ok || (e.Value == "" && e.ValueFrom == nil) {
				t.Errorf("Job %s: %s is missing", j.Metadata.Name, v)
			}
		}
		svc := serviceOfModules(env["MINIMART_MODULES"].Value)
		if svc == "" {
			t.Errorf("Job %s: MINIMART_MODULES=%q is no service's", j.Metadata.Name, env["MINIMART_MODULES"].Value)
		}
		for _, m := range split[svc].peers {
			if _, ok := env[peerVar(m)]; ok {
				checkK8sPeer(t, objs, peerVar(m), env[peerVar(m)].Value, servesModule(m))
			}
		}
	}
}

// ConfigMaps hold nothing secret: no secret-looking key, no URL with a password.
func TestKubernetesConfigMapsHoldNoSecrets(t *testing.T) {
	userinfo := regexp.MustCompile(`[a-z][a-z0-9+.-]*://[^/\s@:]*:[^/\s@]+@`)
	for _, cm := range byKind(loadManifests(t), "ConfigMap") {
		for k, v := range cm.Data {
			if secretLooking(k, v) || userinfo.MatchString(v) {
				t.Errorf("ConfigMap %s (%s): %s looks secret; put it in minimart-secrets", cm.Metadata.Name, cm.file, k)
			}
		}
	}
}

// nginx in Kubernetes: its upstreams are the services' ClusterIP Services.
func TestKubernetesNginxUpstreams(t *testing.T) {
	objs := loadManifests(t)
	for name, servers := range parseUpstreams(t, "kubernetes/nginx/upstreams.conf") {
		svc := strings.TrimPrefix(name, "minimart_")
		ss, ok := find(objs, "StatefulSet", svc)
		if !ok {
			t.Errorf("upstream %s: no StatefulSet %s", name, svc)
			continue
		}
		for _, server := range servers {
			host, port, _ := net.SplitHostPort(server)
			s, ok := find(objs, "Service", host)
			if !ok || s.Spec.ClusterIP == "None" || !selects(s.selector(t), ss.Spec.Template.Metadata.Labels) {
				t.Errorf("upstream %s: %s is not a ClusterIP Service selecting the %s pods", name, host, svc)
				continue
			}
			if !slices.ContainsFunc(s.Spec.Ports, func(p servicePort) bool { return strconv.Itoa(p.Port) == port }) {
				t.Errorf("upstream %s: Service %s has no port %s", name, host, port)
			}
		}
	}
}

var update = flag.Bool("update", false, "rewrite kubernetes/nginx-config.yaml from nginx/ and kubernetes/nginx/")

// nginxConfigMapFiles are the files of the nginx-config ConfigMap and where each comes from:
// all shared with compose except the upstreams.
var nginxConfigMapFiles = []struct{ key, source string }{
	{"nginx.conf", "nginx/nginx.conf"},
	{"minimart.conf", "nginx/minimart.conf"},
	{"locations.conf", "nginx/locations.conf"},
	{"tls.conf", "nginx/tls.conf"},
	{"ratelimit.conf", "nginx/ratelimit.conf"},
	{"upstreams.conf", "kubernetes/nginx/upstreams.conf"},
}

// renderNginxConfigMap writes the ConfigMap of the files, each as a literal block.
func renderNginxConfigMap(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("# Generated from deploy/nginx and deploy/kubernetes/nginx/upstreams.conf by\n" +
		"#   go test ./deploy -run TestKubernetesNginxConfigMap -update\n" +
		"# Edit those files, not this one.\n" +
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nginx-config\n  labels:\n" +
		"    app.kubernetes.io/name: minimart\n    app.kubernetes.io/component: nginx\ndata:\n")
	for _, f := range nginxConfigMapFiles {
		content := string(readFile(t, f.source))
		if !strings.HasSuffix(content, "\n") || strings.HasSuffix(content, "\n\n") {
			t.Fatalf("%s must end with exactly one newline to round-trip as a YAML literal block", f.source)
		}
		fmt.Fprintf(&b, "  %s: |\n", f.key)
		for _, line := range strings.SplitAfter(content, "\n") {
			if strings.TrimSpace(line) == "" {
				b.WriteString(strings.TrimLeft(line, " \t"))
			} else {
				b.WriteString("    " + line)
			}
		}
	}
	return b.Bytes()
}

func TestKubernetesNginxConfigMap(t *testing.T) {
	const path = "kubernetes/nginx-config.yaml"
	want := renderNginxConfigMap(t)
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s is not what deploy/nginx holds (err %v); run: go test ./deploy -run TestKubernetesNginxConfigMap -update", path, err)
	}
	// It parses back to exactly the files.
	cm, ok := find(loadManifests(t), "ConfigMap", "nginx-config")
	if !ok {
		t.Fatal("no nginx-config ConfigMap in the kustomization")
	}
	for _, f := range nginxConfigMapFiles {
		if cm.Data[f.key] != string(readFile(t, f.source)) {
			t.Errorf("ConfigMap key %s differs from %s after parsing", f.key, f.source)
		}
	}
}

// ---------------------------------------------------------------------------------------
// Dockerfile

// dockerInstructions are the Dockerfile's instructions, continuation lines joined, comments
// dropped.
func dockerInstructions(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	var cur strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(readFile(t, path)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || line == "" && cur.Len() == 0 {
			continue
		}
		if cont, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(line)
		out = append(out, cur.String())
		cur.Reset()
	}
	return out
}

func TestDockerfileFinalStage(t *testing.T) {
	ins := dockerInstructions(t, "docker/Dockerfile")
	last := -1
	for i, in := range ins {
		if strings.HasPrefix(strings.ToUpper(in), "FROM ") {
			last = i
		}
	}
	if last < 1 {
		t.Fatal("want a build stage and a final stage")
	}
	var build string
	for _, in := range ins[:last] {
		build += in + "\n"
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/minimart"} {
		if !strings.Contains(build, want) {
			t.Errorf("the build stage does not use %s", want)
		}
	}
	if !strings.HasPrefix(ins[last], "FROM gcr.io/distroless/static-debian12:nonroot") {
		t.Errorf("final stage %q, want gcr.io/distroless/static-debian12:nonroot", ins[last])
	}
	found := map[string]string{}
	for _, in := range ins[last+1:] {
		word, rest, _ := strings.Cut(in, " ")
		word = strings.ToUpper(word)
		switch word {
		case "RUN", "SHELL":
			t.Errorf("final stage runs %q: distroless has no shell, and the final image needs none", in)
		}
		found[word] = strings.TrimSpace(rest)
	}
	for word, want := range map[string]string{
		"USER": "nonroot", "ENTRYPOINT": `["/minimart"]`, "CMD": `["serve"]`, "EXPOSE": "8080 9090",
	} {
		if found[word] != want {
			t.Errorf("final stage %s %q, want %q", word, found[word], want)
		}
	}
	if !strings.Contains(found["VOLUME"], "/data") {
		t.Errorf("final stage VOLUME %q, want the data directory", found["VOLUME"])
	}
	// The context must still hold what the build needs.
	for _, line := range strings.Split(string(readFile(t, "docker/Dockerfile.dockerignore")), "\n") {
		p := strings.TrimPrefix(strings.TrimSpace(line), "/")
		for _, needed := range []string{"go.mod", "go.sum", "cmd", "internal", "api"} {
			if p == needed || p == needed+"/" || p == "*" {
				t.Errorf("Dockerfile.dockerignore excludes %s, which the build needs", needed)
			}
		}
	}
}
