package portal_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestREADMESnippetsCompile builds every Go snippet of the README as it
// is, each in a package of its own in a module that uses this one, vets it,
// and runs the snippets that are tests: a snippet that does not compile,
// or a test that fails, as pasted, fails this test. It runs offline: the
// module gets this one's go.sum, and the module cache has the rest.
func TestREADMESnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	snippets := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	require.NotEmpty(t, snippets)

	root, err := os.Getwd()
	require.NoError(t, err)
	dir := t.TempDir()
	goMod := "module example.com/readme\n\ngo 1.25\n\n" +
		"require github.com/adminportal/portal v1.0.0\n\n" +
		"replace github.com/adminportal/portal => " + root + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod), 0o644))
	goSum, err := os.ReadFile("go.sum")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), goSum, 0o644))
	for i, s := range snippets {
		code := s[1]
		require.True(t, strings.HasPrefix(code, "package "), "snippet %d is not a whole file:\n%s", i+1, code)
		name := "snippet.go"
		if strings.Contains(code, "*testing.T") {
			name = "snippet_test.go"
		}
		pkg := filepath.Join(dir, "snippet"+strconv.Itoa(i+1))
		require.NoError(t, os.Mkdir(pkg, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(pkg, name), []byte(code), 0o644))
	}
	for _, args := range [][]string{{"vet", "./..."}, {"test", "-count=1", "./..."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		// Offline whatever the developer's environment says: no proxy, no
		// checksum database, and go.mod's requirements taken as they are.
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go %s: %s", strings.Join(args, " "), out)
	}
}
