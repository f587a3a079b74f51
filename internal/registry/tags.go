package registry

import (
	"context"
	"fmt"
	"strings"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store"
)

// maxTags is AWS's quota of tags per resource.
const maxTags = 50

// checkTags applies AWS's tag rules beyond the model's: no "aws:" prefix,
// and at most 50 distinct keys.
func checkTags(tags []cloudmap.Tag, resource string) error {
	for _, t := range tags {
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return invalid("The tag key %q uses the reserved prefix aws:", t.Key)
		}
	}
	if n := len(dedupTags(tags)); n > maxTags {
		return tooManyTags(resource, n)
	}
	return nil
}

func tooManyTags(resource string, n int) error {
	return &Error{Kind: KindTooManyTags, ResourceName: resource,
		Message: fmt.Sprintf("The maximum number of tags that can be applied to a resource is %d; the request would leave %d", maxTags, n)}
}

// dedupTags keeps the last value of each key, in first-seen key order.
func dedupTags(tags []cloudmap.Tag) []cloudmap.Tag {
	if len(tags) == 0 {
		return nil
	}
	out := make([]cloudmap.Tag, 0, len(tags))
	at := map[string]int{}
	for _, t := range tags {
		if i, ok := at[t.Key]; ok {
			out[i] = t
			continue
		}
		at[t.Key] = len(out)
		out = append(out, t)
	}
	return out
}

// taggable resolves a tagging call's ARN to the store key of the namespace
// or service it names.
func taggable(c Caller, arn string) (string, error) {
	a, ok := parseARN(arn)
	if !ok || a.region != c.Region || a.account != c.Account {
		return "", &Error{Kind: KindNotFound, Resource: ResTagged, Message: fmt.Sprintf("The resource %s was not found", arn)}
	}
	switch a.kind {
	case "namespace":
		return nsKey(a.id), nil
	case "service":
		return svcKey(a.id), nil
	}
	return "", &Error{Kind: KindNotFound, Resource: ResTagged, Message: fmt.Sprintf("The resource %s was not found; only namespaces and services have tags", arn)}
}

// editTags applies edit to the tags of the resource an ARN names.
func (r *Registry) editTags(ctx context.Context, c Caller, arn string, edit func([]cloudmap.Tag) ([]cloudmap.Tag, error)) error {
	key, err := taggable(c, arn)
	if err != nil {
		return err
	}
	missing := &Error{Kind: KindNotFound, Resource: ResTagged, Message: fmt.Sprintf("The resource %s was not found", arn)}
	return r.update(ctx, func(tx store.Tx) error {
		if strings.HasPrefix(key, pNamespace) {
			ns, err := getRecord[nsRecord](tx, key)
			if err != nil {
				return err
			}
			if ns == nil || ns.scope != c.scope() {
				return missing
			}
			if ns.Tags, err = edit(ns.Tags); err != nil {
				return err
			}
			return putRecord(tx, key, ns)
		}
		svc, err := getRecord[svcRecord](tx, key)
		if err != nil {
			return err
		}
		if svc == nil || svc.scope != c.scope() {
			return missing
		}
		if svc.Tags, err = edit(svc.Tags); err != nil {
			return err
		}
		return putRecord(tx, key, svc)
	})
}

// TagResource adds tags to a namespace or service, replacing values of
// keys it already has.
func (r *Registry) TagResource(ctx context.Context, c Caller, in *cloudmap.TagResourceRequest) (*cloudmap.TagResourceResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags, in.ResourceARN); err != nil {
		return nil, err
	}
	err := r.editTags(ctx, c, in.ResourceARN, func(old []cloudmap.Tag) ([]cloudmap.Tag, error) {
		merged := dedupTags(append(append([]cloudmap.Tag{}, old...), in.Tags...))
		if len(merged) > maxTags {
			return nil, tooManyTags(in.ResourceARN, len(merged))
		}
		return merged, nil
	})
	if err != nil {
		return nil, err
	}
	return &cloudmap.TagResourceResponse{}, nil
}

// UntagResource removes tags by key; absent keys are ignored.
func (r *Registry) UntagResource(ctx context.Context, c Caller, in *cloudmap.UntagResourceRequest) (*cloudmap.UntagResourceResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	drop := map[string]bool{}
	for _, k := range in.TagKeys {
		drop[k] = true
	}
	err := r.editTags(ctx, c, in.ResourceARN, func(old []cloudmap.Tag) ([]cloudmap.Tag, error) {
		var kept []cloudmap.Tag
		for _, t := range old {
			if !drop[t.Key] {
				kept = append(kept, t)
			}
		}
		return kept, nil
	})
	if err != nil {
		return nil, err
	}
	return &cloudmap.UntagResourceResponse{}, nil
}

// ListTagsForResource returns a namespace's or service's tags.
func (r *Registry) ListTagsForResource(ctx context.Context, c Caller, in *cloudmap.ListTagsForResourceRequest) (*cloudmap.ListTagsForResourceResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	key, err := taggable(c, in.ResourceARN)
	if err != nil {
		return nil, err
	}
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	var tags []cloudmap.Tag
	if id, ok := strings.CutPrefix(key, pNamespace); ok {
		ns := v.namespaces[id]
		if ns == nil || ns.rec.scope != c.scope() {
			return nil, &Error{Kind: KindNotFound, Resource: ResTagged, Message: fmt.Sprintf("The resource %s was not found", in.ResourceARN)}
		}
		tags = ns.rec.Tags
	} else {
		svc := v.services[strings.TrimPrefix(key, pService)]
		if svc == nil || svc.rec.scope != c.scope() {
			return nil, &Error{Kind: KindNotFound, Resource: ResTagged, Message: fmt.Sprintf("The resource %s was not found", in.ResourceARN)}
		}
		tags = svc.rec.Tags
	}
	return &cloudmap.ListTagsForResourceResponse{Tags: append([]cloudmap.Tag{}, tags...)}, nil
}
