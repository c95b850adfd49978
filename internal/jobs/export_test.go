package jobs

// Backoff exposes the retry delay for tests.
var Backoff = backoff
