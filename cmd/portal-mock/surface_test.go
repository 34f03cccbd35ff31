package main

import (
	"encoding/json"
	"flag"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal/portaltest"
)

// TestSurfaceIsCompatible holds the mock's frozen surface, besides its Go
// API, to testdata/surface.txt: its flags, and the member names of the
// control endpoints' JSON. A name that the file lists and the mock lacks
// (removed or renamed) fails; a new name passes, and belongs in the file.
func TestSurfaceIsCompatible(t *testing.T) {
	t.Parallel()
	golden, err := os.ReadFile("testdata/surface.txt")
	require.NoError(t, err)
	var want []string
	for _, line := range strings.Split(string(golden), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			want = append(want, line)
		}
	}
	have := surface(t)
	for _, name := range want {
		assert.Contains(t, have, name, "removed or renamed: v1 promises it")
	}
	for _, name := range have {
		if !slices.Contains(want, name) {
			t.Logf("new, and compatible: add %q to testdata/surface.txt", name)
		}
	}
}

// surface lists the mock's flags and its JSON's member names, from the
// flags it defines and the JSON it writes.
func surface(t *testing.T) []string {
	var names []string
	var c config
	c.flagSet(io.Discard).VisitAll(func(f *flag.Flag) { names = append(names, "flag -"+f.Name) })

	members := func(prefix string, v any) {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(b, &m))
		for _, k := range slices.Sorted(maps.Keys(m)) {
			names = append(names, prefix+" "+k)
		}
	}
	all := portaltest.Request{Seq: 1, Time: time.Now(), Method: "POST", Path: "/", Proto: "HTTP/1.1",
		Header: http.Header{"A": {"b"}}, Key: "k", Body: "b", BodyTruncated: true, Status: 201, Response: "r",
		RequestID: "i", Link: "l", Fault: "f"}
	members("request", all)
	members("request.opts", portaltest.Opts{Organization: "o", Intent: "i", ReturnURL: "r", SuccessURL: "s",
		ITContactEmails: []string{"e"}})
	members("fault", portaltest.Fault{Status: 500, Body: "b", RetryAfter: "1", Latency: time.Second, Drop: true,
		Malformed: true, Count: 1, Probability: 1, Seed: 1})

	m := startMock(t, "")
	for path, prefix := range map[string]string{"/__mock/requests": "GET /__mock/requests",
		"/__mock/health": "GET /__mock/health", "/__mock/nothing": "error"} {
		_, body := m.do(t, http.MethodGet, path, "")
		var v map[string]any
		require.NoError(t, json.Unmarshal([]byte(body), &v), body)
		members(prefix, v)
	}
	return names
}
