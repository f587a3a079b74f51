// Package compat holds cairn's compatibility suites: real Cloud Map clients
// driven against a real cairn. The Go tests of this folder build the cairn
// binary, start it (once in development mode, once verifying SigV4 with a
// credentials file), and run each client's suite as a subprocess:
//
//   - python/test_boto3.py: boto3 (unittest);
//   - cli/cli.sh: the AWS CLI, v1 and v2 (bash, asserted with --query);
//   - js/servicediscovery.test.mjs: the AWS SDK for JavaScript v3 (node:test),
//     installed with `npm ci` from js/package-lock.json;
//   - externaldns_test.go: external-dns (provider aws-sd), built from the Go
//     module proxy, reconciling records into cairn;
//   - gosdk_test.go: the AWS SDK for Go v2's ways past the data- host prefix.
//
// A suite whose client is not installed is skipped with a message saying
// what to install. See README.md in this folder.
package compat
