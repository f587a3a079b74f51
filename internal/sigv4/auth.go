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
	_, err := a.Check(req)
	return err
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
	c, err := a.Check(req)
	if err != nil {
		return Identity{}, "", err
	}
	return c.Identify(req, body)
}

// Checked is a request whose headers Check accepted, with what they
// said: Identify verifies its body and signature without parsing the
// headers again.
type Checked struct {
	auth     *Auth
	dev      bool
	parsed   *Authorization // nil for an unsigned request in development mode
	identity Identity
}

// Check is CheckHeaders keeping what it parsed, for Checked.Identify.
func (a *Auth) Check(req *http.Request) (Checked, error) {
	c := Checked{auth: a, dev: a.DevelopmentMode()}
	h := req.Header.Get("Authorization")
	if c.dev {
		if h == "" {
			return c, nil
		}
		parsed, err := a.verifier.CheckForm(req)
		if err != nil {
			return Checked{}, err
		}
		c.parsed = parsed
		return c, nil
	}
	if h == "" {
		return Checked{}, &Error{Code: CodeMissingToken, Message: "Missing Authentication Token"}
	}
	parsed, id, err := a.verifier.checkHeaders(req, h)
	if err != nil {
		return Checked{}, err
	}
	c.parsed, c.identity = parsed, id
	return c, nil
}

// Identify is Auth.Identify for a request Check accepted, whose body is
// body.
func (c *Checked) Identify(req *http.Request, body []byte) (Identity, string, error) {
	if c.auth == nil {
		return Identity{}, "", &Error{Code: CodeMissingToken, Message: "Missing Authentication Token"}
	}
	if c.dev {
		if c.parsed == nil {
			return Identity{AccountID: c.auth.devAccount}, c.auth.defaultRegion, nil
		}
		return Identity{AccountID: c.auth.devAccount}, c.parsed.Region, nil
	}
	return c.auth.verifier.verifySignature(req, c.parsed, c.identity, body)
}
