// Package internal_test checks the import rules of DESIGN.md's layout: imports point down
// (cmd → app → module adapters → module → platform), a module reaches another module only
// through that module's <module>events contract package, and the front-end (web) and the
// API contract (api) import only platform.
package internal_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const modulePath = "github.com/minimart/minimart/"

var modules = []string{"user", "catalog", "inventory", "cart", "order", "payment", "promotion"}

// servedLeaves are the top-level packages the composition root serves as they are: the
// front-end (web) and the HTTP contract (api). Like platform they know no module, so they
// import nothing of this repository but platform.
var servedLeaves = []string{modulePath + "web", modulePath + "api"}

// moduleOf names the module a package belongs to ("" for none) and whether the package is
// that module's contract package.
func moduleOf(pkg string) (module string, contract bool) {
	rest, ok := strings.CutPrefix(pkg, modulePath+"internal/")
	if !ok {
		return "", false
	}
	parts := strings.Split(rest, "/")
	if !slices.Contains(modules, parts[0]) {
		return "", false
	}
	return parts[0], len(parts) == 2 && parts[1] == parts[0]+"events"
}

// adapterOf reports whether pkg is one of a module's adapter packages (db, http, client).
func adapterOf(pkg, module string) bool {
	rest := strings.TrimPrefix(pkg, modulePath+"internal/"+module+"/")
	return rest == module+"db" || rest == module+"http" || rest == module+"client"
}

func TestImportsPointDown(t *testing.T) {
	list := exec.Command("go", "list", "-json=ImportPath,Imports", "./...")
	list.Dir = ".." // the module's root: web and api are outside internal
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		seen++
		from, fromContract := moduleOf(p.ImportPath)
		platform := strings.HasPrefix(p.ImportPath, modulePath+"internal/platform/")
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, modulePath) {
				continue
			}
			to, toContract := moduleOf(imp)
			switch {
			case strings.HasPrefix(imp, modulePath+"internal/app") && !strings.HasPrefix(p.ImportPath, modulePath+"internal/app") &&
				!strings.HasPrefix(p.ImportPath, modulePath+"cmd/") && !strings.HasPrefix(p.ImportPath, modulePath+"bench/"):
				t.Errorf("%s imports the composition root %s", p.ImportPath, imp)
			case platform && (to != "" || strings.HasPrefix(imp, modulePath+"internal/app")):
				t.Errorf("platform package %s imports %s: platform is shop-agnostic", p.ImportPath, imp)
			case slices.Contains(servedLeaves, p.ImportPath) && !strings.HasPrefix(imp, modulePath+"internal/platform/"):
				t.Errorf("%s imports %s: it may import only platform packages of this repository", p.ImportPath, imp)
			case fromContract && to != "":
				t.Errorf("contract package %s imports %s: contracts import only platform", p.ImportPath, imp)
			case from != "" && to != "" && from != to && !toContract:
				t.Errorf("%s (module %s) imports %s: other modules are reached only through their %sevents contract", p.ImportPath, from, imp, to)
			case from != "" && to == from && p.ImportPath == modulePath+"internal/"+from && adapterOf(imp, from):
				t.Errorf("module root %s imports its own adapter %s: imports point down", p.ImportPath, imp)
			}
		}
	}
	if seen < 30 {
		t.Fatalf("go list gave %d packages; the check saw too little to mean anything", seen)
	}
}
