package main

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/adminportal/portal"
)

func TestRun(t *testing.T) {
	t.Setenv(portal.EnvAPIKey, "")
	for _, tt := range []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // regexp of standard output
		wantErr  string // fragment of standard error
	}{
		{"default audit logs link", nil, 0, `^http://127\.0\.0\.1:\d+/portal/launch\?token=[A-Za-z0-9_-]{43}\n$`, "Open it once"},
		{"every flag", []string{"-org", "org_01EHZNVPK3SFK441A1RGBFSHRT", "-intent", "sso"}, 0, `^http://127\.0\.0\.1:\d+/portal/launch\?token=`, "embedded fake"},
		{"bad organization", []string{"-org", "acme"}, 2, `^$`, "invalid organization"},
		{"unknown intent", []string{"-intent", "billing"}, 2, `^$`, "invalid intent"},
		{"unknown flag", []string{"-nope"}, 2, `^$`, "flag provided but not defined"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			assert.Equal(t, tt.wantCode, code, stderr.String())
			assert.Regexp(t, regexp.MustCompile(tt.wantOut), stdout.String())
			assert.Contains(t, stderr.String(), tt.wantErr)
		})
	}
}
