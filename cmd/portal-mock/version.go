package main

import "runtime/debug"

// version is the release's version, which the release build sets with
// -ldflags "-X main.version=v1.2.3"; see buildVersion.
var version string

// buildVersion returns version, or else the module version that go install
// and go tool record (or that go build stamps from a git clone), or "devel".
func buildVersion() string {
	info, _ := debug.ReadBuildInfo()
	return versionOf(version, info)
}

// versionOf is buildVersion's choice, from what the build recorded.
func versionOf(released string, info *debug.BuildInfo) string {
	switch {
	case released != "":
		return released
	case info != nil && info.Main.Version != "" && info.Main.Version != "(devel)":
		return info.Main.Version
	}
	return "devel"
}
