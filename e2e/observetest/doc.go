// Package observetest tests what an operator sees of a running cairn: the
// admin listener (metrics, profiles, the console and its token), the
// Prometheus metrics moved by real API calls, DNS queries and health
// probes, the access log, and the console driven by a real browser.
package observetest
