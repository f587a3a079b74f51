package sigv4

import (
	"net/http"
	"sync/atomic"
)

// Auth decides who a request is. With credentials it verifies signatures
// and maps each access key to its account. Without them it runs in
// development mode: it accepts unsigned requests and any well-formed
// signature, and maps every caller to the development account.
type Auth struct {
	verifier      Verifier
	creds         atomic.Pointer[Credentials]
	devAccount    string
	defaultRegion string
}

// NewAuth returns an Auth for requests signed for service. creds nil means
// development mode, where every caller is devAccount; defaultRegion is the
// region of unsigned requests.
func NewAuth(service, defaultRegion, devAccount string, creds Credentials) *Auth {
	a := &Auth{devAccount: devAccount, defaultRegion: defaultRegion}
	a.verifier = Verifier{Service: service, Lookup: a.lookup}
	if creds != nil {
		a.creds.Store(&creds)
	}
	return a
}

// SetCredentials replaces the identities, at once for every later request
// (a credentials-file reload).
func (a *Auth) SetCredentials(c Credentials) { a.creds.Store(&c) }

// DevelopmentMode reports whether Auth accepts requests without verifying
// them.
func (a *Auth) DevelopmentMode() bool { return a.creds.Load() == nil }

func (a *Auth) lookup(key string) (Identity, bool) {
	c := a.creds.Load()
	if c == nil {
		return Identity{}, false
	}
	id, ok := (*c)[key]
	return id, ok
}

// SetRegions limits the regions a credential scope may name (and the
// default region) to names; nil restores AWS's regions. Call it before
// serving.
func (a *Auth) SetRegions(names []string) { a.verifier.Regions = names }

// CheckHeaders refuses, with an *Error, a request that its headers alone
// show to be refused: with credentials, a missing or malformed
// Authorization, an expired date, a wrong scope, headers that must be
// signed and are not, an unknown access key or a wrong session token; in
// development mode, a malformed signature. It lets a server refuse before
// reading the body.
func (a *Auth) CheckHeaders(req *http.Request) error {
	if a.DevelopmentMode() {
		if req.Header.Get("Authorization") == "" {
			return nil
		}
		_, err := a.verifier.CheckForm(req)
		return err
	}
	return a.verifier.CheckHeaders(req)
}

// Authenticate returns the account and region a request acts in, or an
// *Error.
func (a *Auth) Authenticate(req *http.Request, body []byte) (account, region string, err error) {
	id, region, err := a.Identify(req, body)
	return id.AccountID, region, err
}

// Identify returns the identity that signed a request (with its profile
// and policy) and the region it acts in, or an *Error. In development
// mode the identity is the development account, without a profile or a
// policy.
func (a *Auth) Identify(req *http.Request, body []byte) (Identity, string, error) {
	if a.DevelopmentMode() {
		if req.Header.Get("Authorization") == "" {
			return Identity{AccountID: a.devAccount}, a.defaultRegion, nil
		}
		auth, err := a.verifier.CheckForm(req)
		if err != nil {
			return Identity{}, "", err
		}
		return Identity{AccountID: a.devAccount}, auth.Region, nil
	}
	return a.verifier.Verify(req, body)
}
