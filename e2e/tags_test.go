package e2e_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
)

func tagList(kv ...string) []types.Tag {
	var out []types.Tag
	for i := 0; i < len(kv); i += 2 {
		out = append(out, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

func numberedTags(prefix string, n int) []types.Tag {
	out := make([]types.Tag, n)
	for i := range out {
		out[i] = types.Tag{Key: aws.String(fmt.Sprint(prefix, i)), Value: aws.String("v")}
	}
	return out
}

func TestTags(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	out, err := c.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("shop"), Tags: tagList("team", "a", "env", "")})
	must(t, err)
	nsID := waitSuccess(t, c, out.OperationId).Targets["NAMESPACE"]
	nsARN := "arn:aws:servicediscovery:us-east-1:" + account + ":namespace/" + nsID
	svc := mustService(t, c, &sd.CreateServiceInput{Name: aws.String("cart"), NamespaceId: aws.String(nsID), Tags: tagList("team", "b")})
	svcARN := aws.ToString(svc.Arn)

	list := func(arn string) map[string]string {
		t.Helper()
		out, err := c.ListTagsForResource(ctx, &sd.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
		must(t, err)
		m := map[string]string{}
		for _, tag := range out.Tags {
			if _, dup := m[aws.ToString(tag.Key)]; dup {
				t.Errorf("tag %s listed twice", aws.ToString(tag.Key))
			}
			m[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		return m
	}
	if got := list(nsARN); !sameMap(got, map[string]string{"team": "a", "env": ""}) {
		t.Errorf("namespace tags from creation = %v", got)
	}
	if got := list(svcARN); !sameMap(got, map[string]string{"team": "b"}) {
		t.Errorf("service tags from creation = %v", got)
	}

	for _, arn := range []string{nsARN, svcARN} {
		// Adds, overwrites, and keys are case-sensitive.
		_, err = c.TagResource(ctx, &sd.TagResourceInput{ResourceARN: aws.String(arn), Tags: tagList("team", "c", "Team", "d", "cost", "42")})
		must(t, err)
		got := list(arn)
		if got["team"] != "c" || got["Team"] != "d" || got["cost"] != "42" {
			t.Errorf("%s tags after TagResource = %v", arn, got)
		}
		_, err = c.UntagResource(ctx, &sd.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: []string{"Team", "absent"}})
		must(t, err)
		got = list(arn)
		if _, ok := got["Team"]; ok || got["team"] != "c" {
			t.Errorf("%s tags after UntagResource = %v", arn, got)
		}
		// Removing every tag leaves an empty list.
		var all []string
		for k := range got {
			all = append(all, k)
		}
		_, err = c.UntagResource(ctx, &sd.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: all})
		must(t, err)
		if got = list(arn); len(got) != 0 {
			t.Errorf("%s tags after removing all = %v", arn, got)
		}

		// 50 is the quota.
		_, err = c.TagResource(ctx, &sd.TagResourceInput{ResourceARN: aws.String(arn), Tags: numberedTags("k", 49)})
		must(t, err)
		_, err = c.TagResource(ctx, &sd.TagResourceInput{ResourceARN: aws.String(arn), Tags: numberedTags("x", 2)})
		e := wantErr[*types.TooManyTagsException](t, err)
		if aws.ToString(e.ResourceName) != arn {
			t.Errorf("TooManyTagsException.ResourceName = %q, want %s", aws.ToString(e.ResourceName), arn)
		}
		_, err = c.TagResource(ctx, &sd.TagResourceInput{ResourceARN: aws.String(arn), Tags: numberedTags("new", 51)})
		checkErr[*types.TooManyTagsException](t, err)
		if n := len(list(arn)); n != 49 {
			t.Errorf("refused TagResource calls changed the tags: %d", n)
		}
		// Overwriting keys it has adds none.
		_, err = c.TagResource(ctx, &sd.TagResourceInput{ResourceARN: aws.String(arn), Tags: append(numberedTags("k", 49), tagList("last", "v")...)})
		must(t, err)
		if n := len(list(arn)); n != 50 {
			t.Errorf("got %d tags, want 50", n)
		}
		_, err = c.TagResource(ctx, &sd.TagResourceInput{ResourceARN: aws.String(arn), Tags: tagList("k0", "changed")})
		must(t, err)
		if got := list(arn); got["k0"] != "changed" || len(got) != 50 {
			t.Errorf("overwrite at the quota: k0=%q, %d tags", got["k0"], len(got))
		}
	}
	// Tags go with the resource.
	_, err = c.DeleteService(ctx, &sd.DeleteServiceInput{Id: svc.Id})
	must(t, err)
	_, err = c.ListTagsForResource(ctx, &sd.ListTagsForResourceInput{ResourceARN: aws.String(svcARN)})
	checkErr[*types.ResourceNotFoundException](t, err)
}

func TestTags_Errors(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	nsID := mustNamespace(t, c, httpNS, "shop")
	nsARN := "arn:aws:servicediscovery:us-east-1:" + account + ":namespace/" + nsID
	svc := httpService(t, c, nsID, "cart")

	missing := []string{
		"arn:aws:servicediscovery:us-east-1:" + account + ":namespace/ns-aaaaaaaaaaaaaaaa",
		"arn:aws:servicediscovery:us-east-1:" + account + ":service/srv-aaaaaaaaaaaaaaaa",
		"arn:aws:servicediscovery:eu-west-1:" + account + ":namespace/" + nsID, // another region
		"arn:aws:servicediscovery:us-east-1:111111111111:namespace/" + nsID,    // another account
		"arn:aws:servicediscovery:us-east-1:" + account + ":service/" + nsID,   // the wrong kind
		"arn:aws:servicediscovery:us-east-1:" + account + ":namespace/" + aws.ToString(svc.Id),
		"arn:aws:servicediscovery:us-east-1:" + account + ":instance/" + aws.ToString(svc.Id) + "/i-1", // instances have no tags
	}
	for _, arn := range missing {
		t.Run("not found "+arn, func(t *testing.T) {
			_, err := c.TagResource(ctx, &sd.TagResourceInput{ResourceARN: aws.String(arn), Tags: tagList("a", "b")})
			checkErr[*types.ResourceNotFoundException](t, err)
			_, err = c.UntagResource(ctx, &sd.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: []string{"a"}})
			checkErr[*types.ResourceNotFoundException](t, err)
			_, err = c.ListTagsForResource(ctx, &sd.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
			checkErr[*types.ResourceNotFoundException](t, err)
		})
	}

	tag := func(tags []types.Tag) error {
		_, err := c.TagResource(ctx, &sd.TagResourceInput{ResourceARN: aws.String(nsARN), Tags: tags})
		return err
	}
	invalid := map[string]error{
		"tag: aws: prefix":        tag(tagList("aws:cloudformation:stack", "x")),
		"tag: AWS: prefix":        tag(tagList("AWS:x", "x")),
		"tag: key too long":       tag(tagList(long(129), "x")),
		"tag: empty key":          tag(tagList("", "x")),
		"tag: value too long":     tag(tagList("k", long(257))),
		"tag: 201 in one request": tag(numberedTags("k", 201)),
		"tag: ARN too long": func() error {
			_, err := c.TagResource(ctx, &sd.TagResourceInput{ResourceARN: aws.String(long(1012)), Tags: tagList("a", "b")})
			return err
		}(),
		"untag: key too long": func() error {
			_, err := c.UntagResource(ctx, &sd.UntagResourceInput{ResourceARN: aws.String(nsARN), TagKeys: []string{long(129)}})
			return err
		}(),
		"untag: ARN too long": func() error {
			_, err := c.UntagResource(ctx, &sd.UntagResourceInput{ResourceARN: aws.String(long(1012)), TagKeys: []string{"a"}})
			return err
		}(),
		"list: ARN too long": func() error {
			_, err := c.ListTagsForResource(ctx, &sd.ListTagsForResourceInput{ResourceARN: aws.String(long(1012))})
			return err
		}(),
	}
	for name, err := range invalid {
		t.Run(name, func(t *testing.T) { checkErr[*types.InvalidInput](t, err) })
	}
	out, err := c.ListTagsForResource(ctx, &sd.ListTagsForResourceInput{ResourceARN: aws.String(nsARN)})
	must(t, err)
	if len(out.Tags) != 0 {
		t.Errorf("refused calls left tags %v", out.Tags)
	}
}
