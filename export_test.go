package portal

// NoLeaks lets the external tests (package portal_test) check for leaked
// goroutines with the same helper as the internal ones.
var NoLeaks = noLeaks

// Concurrently is concurrently, for the external tests.
var Concurrently = concurrently
