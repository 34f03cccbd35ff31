package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/adminportal/portal"
	"github.com/adminportal/portal/internal/testenv"
)

func TestMain(m *testing.M) {
	testenv.Isolate()
	goleak.VerifyTestMain(m)
}

func TestRun(t *testing.T) {
	t.Setenv(portal.EnvAPIKey, "")
	t.Setenv(portal.EnvBaseURL, "")
	for _, tt := range []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // regexp of standard output
		wantErr  string // part of standard error
	}{
		{"default: an audit logs link", nil, 0, `^http://127\.0\.0\.1:\d+/portal/launch\?token=[A-Z2-7]{52}\n$`,
			"Open it once"},
		{"every flag", []string{"-org", "org_01EHZNVPK3SFK441A1RGBFSHRT", "-intent", "sso", "-timeout", "5s"}, 0,
			`^http://127\.0\.0\.1:\d+/portal/launch\?token=`, "embedded fake"},
		{"bad organization", []string{"-org", "acme"}, 2, `^$`, "invalid organization"},
		{"a malformed intent, for the API to judge", []string{"-intent", "Audit Logs"}, 2, `^$`,
			"422 Unprocessable Entity"},
		{"intent the API refuses", []string{"-intent", "billing"}, 2, `^$`, "422 Unprocessable Entity"},
		{"unknown flag", []string{"-nope"}, 2, `^$`, "flag provided but not defined"},
		{"help", []string{"-h"}, 0, `^$`, "-intent intent"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			assert.Equal(t, tt.wantCode, code, stderr.String())
			assert.Regexp(t, tt.wantOut, stdout.String())
			assert.Contains(t, stderr.String(), tt.wantErr)
		})
	}
}
