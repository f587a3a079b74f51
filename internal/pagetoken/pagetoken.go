// Package pagetoken makes and opens the NextToken of Cloud Map's list
// operations: the position of the last item of a page, bound to the
// operation and request it was issued for, and signed so that a forged or
// altered token is refused.
//
// # Basics
//
// Sign turns a Token into a string with a server's key; Open gives the
// Token back only if that key signed it. The caller compares the Token's
// Op and Query with the request that brought it and resumes after After.
//
// # Caveats
//
// A token is a base64url string (no padding) after Prefix: a MAC of MACLen
// bytes, then the Token as JSON. It is not encrypted: a client can read
// the position (an ID or a creation time and ID), not change it. Tokens
// signed with one key open with the same key after a restart.
package pagetoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// Token is what a NextToken carries.
type Token struct {
	// Op is the operation that issued it, such as ListServices.
	Op string `json:"o"`
	// Query fingerprints the caller and the request's filters.
	Query string `json:"q"`
	// After is the sort key of the page's last item.
	After string `json:"a"`
}

// MACLen is the length in bytes of a token's MAC (HMAC-SHA256, cut).
const MACLen = 16

// Prefix starts every token, so that none starts with "-", which the AWS
// CLIs would take for an option.
const Prefix = "t"

// Sign returns the token of t, signed with key.
func Sign(key []byte, t Token) string {
	body, err := json.Marshal(t)
	if err != nil {
		panic("pagetoken: marshal a token of strings: " + err.Error()) // can't happen
	}
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return Prefix + base64.RawURLEncoding.EncodeToString(append(m.Sum(nil)[:MACLen], body...))
}

// Open returns the Token of tok, and false unless key signed it.
func Open(key []byte, tok string) (Token, bool) {
	enc, ok := strings.CutPrefix(tok, Prefix)
	if !ok {
		return Token{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(raw) <= MACLen {
		return Token{}, false
	}
	m := hmac.New(sha256.New, key)
	m.Write(raw[MACLen:])
	if !hmac.Equal(m.Sum(nil)[:MACLen], raw[:MACLen]) {
		return Token{}, false
	}
	var t Token
	if err := json.Unmarshal(raw[MACLen:], &t); err != nil {
		return Token{}, false
	}
	return t, true
}
