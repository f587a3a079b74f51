package main

import (
	"fmt"
	"regexp/syntax"
	"slices"
	"strings"
)

// maxDFAStates bounds the automaton a pattern may compile to; a larger one
// stays a regexp.
const maxDFAStates = 1024

// dfa is a model pattern compiled, when the generator runs, to a
// deterministic automaton over bytes that answers exactly what
// regexp.MatchString answers: whether the pattern matches anywhere in the
// input. Validating an input is then one table lookup per byte, where the
// regexp package's matchers cost several times that on every request
// (DiscoverInstances validates a ServiceName, NamespaceName and each query
// attribute).
//
// It is built from the pattern's RE2 program by the subset construction:
// a state is the set of program threads alive after some input, with the
// program's start added at every position (MatchString searches, it is
// not anchored) and a thread that reached Match kept for good. Only
// patterns whose characters are all ASCII compile (the model's are): a
// byte from 0x80 up then matches no character, whether it starts a rune
// or continues one or is invalid UTF-8, as for the regexp, for which no
// non-ASCII rune matches either. The text assertions ^ and $ (begin and
// end of text) are kept; a pattern with any other (word or line
// boundaries), a case-folded or any-character class, or more than
// maxDFAStates states returns nil and is matched by regexp.
type dfa struct {
	class  [256]uint8 // each byte's class: bytes of a class move every state alike
	nclass int
	next   []uint16 // next[state*nclass+class]; state 0 is the start
	accept []bool   // whether the input matches when it ends in the state
}

// compileDFA compiles pattern, as regexp.MustCompile would, to a dfa, or
// returns nil when the pattern is outside what dfa supports.
func compileDFA(pattern string) *dfa {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil
	}
	var consumers []int // the program's character instructions
	for pc, in := range prog.Inst {
		switch in.Op {
		case syntax.InstRune:
			if syntax.Flags(in.Arg)&syntax.FoldCase != 0 {
				return nil // k and s also fold to non-ASCII runes
			}
			for _, r := range in.Rune {
				if r >= 0x80 {
					return nil
				}
			}
			consumers = append(consumers, pc)
		case syntax.InstRune1:
			if in.Rune[0] >= 0x80 {
				return nil
			}
			consumers = append(consumers, pc)
		case syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			return nil
		case syntax.InstEmptyWidth:
			if syntax.EmptyOp(in.Arg)&^(syntax.EmptyBeginText|syntax.EmptyEndText) != 0 {
				return nil
			}
		}
	}
	d := &dfa{}
	d.classify(prog, consumers)
	b := dfaBuilder{prog: prog, ids: map[string]int{}}
	// The start state is never merged with a later one of the same
	// threads: at its end the input's beginning is too.
	b.sets = append(b.sets, b.closure([]int{prog.Start}, true, false))
	for s := 0; s < len(b.sets); s++ {
		set := b.sets[s]
		d.accept = append(d.accept, b.acceptsAtEnd(s))
		for c := 0; c < d.nclass; c++ {
			var next int
			if slices.Contains(set, matchThread) {
				next = s // matched: stays matched whatever follows
			} else {
				next = b.state(b.step(set, d.representative(c)))
			}
			if len(b.sets) > maxDFAStates {
				return nil
			}
			d.next = append(d.next, uint16(next))
		}
	}
	return d
}

// classify gives bytes that every character instruction treats alike the
// same class.
func (d *dfa) classify(prog *syntax.Prog, consumers []int) {
	ids := map[string]uint8{}
	for b := 0; b < 256; b++ {
		var sig strings.Builder
		for _, pc := range consumers {
			if b < 0x80 && prog.Inst[pc].MatchRune(rune(b)) {
				sig.WriteByte('1')
			} else {
				sig.WriteByte('0')
			}
		}
		id, ok := ids[sig.String()]
		if !ok {
			id = uint8(len(ids))
			ids[sig.String()] = id
		}
		d.class[b] = id
	}
	d.nclass = len(ids)
}

// representative is a byte of class c.
func (d *dfa) representative(c int) byte {
	return byte(slices.Index(d.class[:], uint8(c)))
}

// matchThread stands for a thread that reached Match, in a state's set.
const matchThread = -1

type dfaBuilder struct {
	prog *syntax.Prog
	sets [][]int        // each state's threads, sorted
	ids  map[string]int // a set's key -> its state
}

// state returns the state of a thread set after the input's beginning,
// adding it if new.
func (b *dfaBuilder) state(set []int) int {
	key := fmt.Sprint(set)
	if id, ok := b.ids[key]; ok {
		return id
	}
	b.ids[key] = len(b.sets)
	b.sets = append(b.sets, set)
	return len(b.sets) - 1
}

// closure follows pcs through every instruction that consumes nothing, at
// a position that is the text's beginning or not, its end or not. It
// keeps the threads that wait for a character, those that wait for the
// text's end when not there (acceptsAtEnd follows them), and matchThread
// if one reached Match.
func (b *dfaBuilder) closure(pcs []int, atBegin, atEnd bool) []int {
	seen := map[int]bool{}
	var out []int
	var visit func(pc int)
	visit = func(pc int) {
		if seen[pc] {
			return
		}
		seen[pc] = true
		in := b.prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			visit(int(in.Out))
			visit(int(in.Arg))
		case syntax.InstCapture, syntax.InstNop:
			visit(int(in.Out))
		case syntax.InstEmptyWidth:
			op := syntax.EmptyOp(in.Arg)
			if op&syntax.EmptyBeginText != 0 && !atBegin {
				return
			}
			if op&syntax.EmptyEndText != 0 && !atEnd {
				out = append(out, pc) // decided at the end
				return
			}
			visit(int(in.Out))
		case syntax.InstMatch:
			out = append(out, matchThread)
		case syntax.InstFail:
		default: // a character instruction
			if !atEnd {
				out = append(out, pc)
			}
		}
	}
	for _, pc := range pcs {
		visit(pc)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// step is the set after one byte c, with a new search starting after it.
func (b *dfaBuilder) step(set []int, c byte) []int {
	var pcs []int
	for _, pc := range set {
		if pc == matchThread {
			continue
		}
		in := b.prog.Inst[pc]
		if in.Op != syntax.InstEmptyWidth && c < 0x80 && in.MatchRune(rune(c)) {
			pcs = append(pcs, int(in.Out))
		}
	}
	pcs = append(pcs, b.prog.Start)
	return b.closure(pcs, false, false)
}

// acceptsAtEnd reports whether the input matches when it ends in state
// s: one of its threads has matched, or one waiting for the end reaches
// Match there (at the start state the end is the beginning too).
func (b *dfaBuilder) acceptsAtEnd(s int) bool {
	var pending []int
	for _, pc := range b.sets[s] {
		if pc == matchThread {
			return true
		}
		if b.prog.Inst[pc].Op == syntax.InstEmptyWidth {
			pending = append(pending, pc)
		}
	}
	return slices.Contains(b.closure(pending, s == 0, true), matchThread)
}
