package registry

import (
	"sort"

	"github.com/cairn-dev/cairn/internal/pagetoken"
)

// A page token carries the sort key of the last item returned, bound to the
// operation and request it was issued for, and signed (see
// internal/pagetoken). Items are listed in a stable order, so items that
// come and go between pages cause neither duplicates nor gaps among the
// items that stay.
type pageToken = pagetoken.Token

func (r *Registry) encodeToken(t pageToken) string { return pagetoken.Sign(r.tokenKey, t) }

// decodeToken returns the position a token resumes after, or an InvalidInput
// error when the token was not issued by this server for the same request.
func (r *Registry) decodeToken(tok, op, query string) (string, error) {
	if tok == "" {
		return "", nil
	}
	t, ok := pagetoken.Open(r.tokenKey, tok)
	if !ok || t.Op != op || t.Query != query {
		return "", invalid("The NextToken %q is not valid for this request; use the NextToken of the previous page of the same request", clip(tok))
	}
	return t.After, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// paginate sorts items by key, skips to after the position in token and
// returns at most max items and the token of the next page ("" at the end).
func paginate[T any](r *Registry, items []T, key func(T) string, op, query, token string, max int) ([]T, string, error) {
	after, err := r.decodeToken(token, op, query)
	if err != nil {
		return nil, "", err
	}
	sort.Slice(items, func(a, b int) bool { return key(items[a]) < key(items[b]) })
	start := 0
	if after != "" {
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > after })
	}
	end := min(start+max, len(items))
	page := items[start:end]
	next := ""
	if end < len(items) {
		next = r.encodeToken(pageToken{Op: op, Query: query, After: key(items[end-1])})
	}
	return page, next, nil
}

// maxResults returns the page size asked for, or def.
func maxResults(p *int32, def int) int {
	if p == nil {
		return def
	}
	return int(*p)
}
