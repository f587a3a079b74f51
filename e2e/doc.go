// Package e2e holds cairn's end-to-end tests. They start a real cairn on a
// loopback port (package cairntest) and drive it over real sockets with the
// unmodified AWS SDK for Go v2 servicediscovery client, asserting the
// responses and the modeled AWS error shapes of all 30 Cloud Map
// operations.
//
// The package has no code of its own; run it with
//
//	go test -race ./e2e/
package e2e
