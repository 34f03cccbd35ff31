package portal

// DefaultLog returns what slog's default logger wrote during the tests,
// for the tests of package portal_test.
func DefaultLog() string { return testLog.String() }

// RunInChild runs the calling test in a child process with env added; see
// runInChild.
var RunInChild = runInChild

// TestKey is testKey, for the tests of package portal_test: one key for both.
const TestKey = testKey
