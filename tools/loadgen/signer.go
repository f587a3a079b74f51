package loadgen

import "github.com/cairn-dev/cairn/internal/sigv4"

// Credentials are what the tool signs with (internal/sigv4's Signer signs
// every request it sends).
type Credentials = sigv4.AccessKey

// ContentType is the content type of every Cloud Map request.
const ContentType = sigv4.JSONContentType

// SigningName is the SigV4 service name of Cloud Map.
const SigningName = "servicediscovery"

// PayloadHash is the hex SHA-256 of a body, as the canonical request
// carries it. Compute it once for a body sent many times.
func PayloadHash(body []byte) string { return sigv4.PayloadHash(body) }
