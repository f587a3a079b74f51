package cloudmap

// bytePattern is a model pattern compiled by tools/modelgen to a
// deterministic automaton over bytes: MatchString answers what
// regexp.MatchString answers for the pattern it was compiled from
// (patternSources lists them; TestPatternsMatchRegexp and
// FuzzPatternsMatchRegexp compare the two), at one table lookup per byte.
type bytePattern struct {
	class  [256]uint8 // each byte's class
	nclass int
	next   []uint16 // next[state*nclass+class]; state 0 is the start
	accept []bool   // whether the input matches when it ends in the state
}

// MatchString reports whether s matches the pattern.
func (p *bytePattern) MatchString(s string) bool {
	st := 0
	for i := 0; i < len(s); i++ {
		st = int(p.next[st*p.nclass+int(p.class[s[i]])])
	}
	return p.accept[st]
}
