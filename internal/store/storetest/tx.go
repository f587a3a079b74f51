package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"

	"github.com/cairn-dev/cairn/internal/store"
)

func testRoundTrip(t *testing.T, s store.Store) {
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	large := bytes.Repeat([]byte("cairn "), 20000)
	tests := []struct {
		name string
		txs  [][]op // each writes the key "k"
		want []byte // nil: absent
	}{
		{"put", [][]op{{put("k", "1")}}, []byte("1")},
		{"overwrite", [][]op{{put("k", "1")}, {put("k", "2")}}, []byte("2")},
		{"overwrite in one tx", [][]op{{put("k", "1"), put("k", "2")}}, []byte("2")},
		{"delete", [][]op{{put("k", "1")}, {del("k")}}, nil},
		{"delete absent", [][]op{{del("k")}}, nil},
		{"delete in same tx", [][]op{{put("k", "1"), del("k")}}, nil},
		{"put after delete", [][]op{{put("k", "1")}, {del("k"), put("k", "2")}}, []byte("2")},
		{"empty value", [][]op{{put("k", "")}}, []byte{}},
		{"empty replaces value", [][]op{{put("k", "1")}, {put("k", "")}}, []byte{}},
		{"delete empty value", [][]op{{put("k", "")}, {del("k")}}, nil},
		{"binary value", [][]op{{{key: "k", value: binary}}}, binary},
		{"large value", [][]op{{{key: "k", value: large}}}, large},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := fmt.Sprintf("rt/%02d/ünï☃", i)
			for _, ops := range tt.txs {
				for j := range ops {
					ops[j].key = key
				}
				write(t, s, ops...)
			}
			got, ok := get(t, s, key)
			if ok != (tt.want != nil) || !sameValue(got, tt.want) {
				t.Errorf("Get = %q, %v; want %q, %v", got, ok, tt.want, tt.want != nil)
			}
			if tt.want != nil && got == nil {
				t.Errorf("Get returned a nil value for a present key")
			}
			all, _ := loadMap(t, s)
			if v, ok := all[key]; ok != (tt.want != nil) || !sameValue(v, tt.want) {
				t.Errorf("Load: %q = %q, %v; want %q, %v", key, v, ok, tt.want, tt.want != nil)
			}
		})
	}
}

func testOwnWrites(t *testing.T, s store.Store) {
	write(t, s, put("stored", "s"))
	type step struct {
		op   *op    // nil: only read
		key  string // read after op
		want []byte // nil: absent
	}
	p := func(o op) *op { return &o }
	steps := []step{
		{nil, "new", nil},
		{p(put("new", "1")), "new", []byte("1")},
		{p(put("new", "2")), "new", []byte("2")},
		{p(del("new")), "new", nil},
		{p(put("new", "")), "new", []byte{}},
		{nil, "stored", []byte("s")},
		{p(put("stored", "t")), "stored", []byte("t")},
		{p(del("stored")), "stored", nil},
		{p(put("stored", "u")), "stored", []byte("u")},
	}
	_, err := s.Update(context.Background(), func(tx store.Tx) error {
		for i, st := range steps {
			if st.op != nil {
				if err := st.op.do(tx); err != nil {
					return err
				}
			}
			got, ok, err := tx.Get(st.key)
			if err != nil {
				return err
			}
			if ok != (st.want != nil) || !sameValue(got, st.want) {
				t.Errorf("step %d: Get(%q) = %q, %v; want %q, %v", i, st.key, got, ok, st.want, st.want != nil)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	all, _ := loadMap(t, s)
	want := map[string][]byte{"new": {}, "stored": []byte("u")}
	if !maps.EqualFunc(all, want, sameValue) {
		t.Errorf("after commit: %q; want %q", all, want)
	}
}

func testScan(t *testing.T, s store.Store) {
	write(t, s, put("a", "a"), put("a/1", "1"), put("a/2", "2"), put("a/3", "3"),
		put("a/4", "4"), put("a0", "x"), put("b/1", "b1"))
	errRollback := errors.New("rollback")
	tests := []struct {
		name   string
		writes []op
		prefix string
		limit  int // stop after this many keys; 0: no limit
		want   string
	}{
		{"all", nil, "", 0, `a="a" a/1="1" a/2="2" a/3="3" a/4="4" a0="x" b/1="b1"`},
		{"prefix bounds", nil, "a/", 0, `a/1="1" a/2="2" a/3="3" a/4="4"`},
		{"prefix is a key", nil, "a", 0, `a="a" a/1="1" a/2="2" a/3="3" a/4="4" a0="x"`},
		{"no match", nil, "c/", 0, ``},
		{"past last key", nil, "z", 0, ``},
		{"stop early", nil, "a/", 2, `a/1="1" a/2="2"`},
		{"own puts interleaved", []op{put("a/0", "0"), put("a/2.5", "2.5"), put("a/9", "9")}, "a/", 0,
			`a/0="0" a/1="1" a/2="2" a/2.5="2.5" a/3="3" a/4="4" a/9="9"`},
		{"own overwrite", []op{put("a/2", "two")}, "a/", 0, `a/1="1" a/2="two" a/3="3" a/4="4"`},
		{"own empty value", []op{put("a/2", "")}, "a/", 0, `a/1="1" a/2="" a/3="3" a/4="4"`},
		{"own deletes at the ends", []op{del("a/1"), del("a/4")}, "a/", 0, `a/2="2" a/3="3"`},
		{"own delete of absent key", []op{del("a/25")}, "a/", 0, `a/1="1" a/2="2" a/3="3" a/4="4"`},
		{"own writes outside prefix", []op{put("a1", "y"), put("a.", "y"), put("b/0", "y")}, "a/", 0,
			`a/1="1" a/2="2" a/3="3" a/4="4"`},
		{"delete all then put", []op{del("a/1"), del("a/2"), del("a/3"), del("a/4"), put("a/5", "5")}, "a/", 0, `a/5="5"`},
		{"own writes only", []op{put("c/1", "c1"), put("c/2", "c2")}, "c/", 0, `c/1="c1" c/2="c2"`},
		{"stop early in own writes", []op{put("a/0", "0")}, "a/", 1, `a/0="0"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []kv
			_, err := s.Update(context.Background(), func(tx store.Tx) error {
				got = nil
				for _, o := range tt.writes {
					if err := o.do(tx); err != nil {
						return err
					}
				}
				err := tx.Scan(tt.prefix, func(key string, value []byte) bool {
					if value == nil {
						t.Errorf("Scan gave %q a nil value", key)
					}
					got = append(got, kv{key, value})
					return tt.limit == 0 || len(got) < tt.limit
				})
				if err != nil {
					return err
				}
				return errRollback // keep the cases independent
			})
			if err != errRollback {
				t.Fatalf("Update = %v; want %v", err, errRollback)
			}
			if s := joinKV(got); s != tt.want {
				t.Errorf("Scan(%q) = %s\nwant          %s", tt.prefix, s, tt.want)
			}
		})
	}
}

func joinKV(all []kv) string {
	var b bytes.Buffer
	for i, e := range all {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(e.String())
	}
	return b.String()
}
