// Package clustertest tests several cairn servers over one etcd: writes
// through one seen through the others (API and DNS) and how long that
// takes, racing writes, a server killed under load, etcd stopped and
// restarted, and health checks split among the live servers. The tests
// start the etcd binary (Debian's etcd-server) and skip without it.
package clustertest
