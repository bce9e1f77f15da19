package wire

import (
	"bytes"
	"reflect"
	"testing"
)

// sampleTree is the tree of fmt.Errorf("w: %w", errors.Join(ErrX,
// &MyError{Code: 1, Err: io.EOF})) with both registered.
func sampleTree() *ErrNode {
	return &ErrNode{Kind: NodeOpaque, Is: []string{"k"}, Children: []ErrChild{{Node: &ErrNode{
		Kind: NodeOpaque, Type: "*errors.joinError", Message: "x\ny", Children: []ErrChild{
			{Node: &ErrNode{Kind: NodeSentinel, Type: "*errors.errorString", Message: "x", Key: "*errors.errorString:x"}},
			{Node: &ErrNode{Kind: NodeValue, Type: "*p.MyError", Message: "y", Key: "*p.MyError", Value: []byte{0, 1, 2}, Children: []ErrChild{
				{Field: 2, Node: &ErrNode{Kind: NodeSentinel, Type: "*errors.errorString", Message: "EOF", Key: "*errors.errorString:EOF"}},
			}}},
		}}}}}
}

func TestErrTreeRoundTrip(t *testing.T) {
	b := AppendErrTree(nil, sampleTree())
	n, err := ParseErrTree(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(n, sampleTree()) {
		t.Fatalf("got %+v", n)
	}
	if err := checkErrTree(b); err != nil {
		t.Fatal(err)
	}
	for i := range len(b) {
		if _, err := ParseErrTree(b[:i]); err == nil {
			t.Fatalf("a tree cut at %d of %d bytes is accepted", i, len(b))
		}
	}
	if _, err := ParseErrTree(append(b, 0)); err == nil {
		t.Fatal("a byte after the tree is accepted")
	}
}

// chain returns a chain of n opaque nodes.
func chain(n int) *ErrNode {
	root := &ErrNode{}
	for at := root; n > 1; n-- {
		c := &ErrNode{Type: "t", Message: "m"}
		at.Children = []ErrChild{{Node: c}}
		at = c
	}
	return root
}

func TestErrTreeBounds(t *testing.T) {
	if _, err := ParseErrTree(AppendErrTree(nil, chain(MaxErrDepth))); err != nil {
		t.Fatalf("a tree of the greatest depth is refused: %v", err)
	}
	if _, err := ParseErrTree(AppendErrTree(nil, chain(MaxErrDepth+1))); err == nil {
		t.Fatal("a tree too deep is accepted")
	}
	wide := &ErrNode{}
	for range MaxErrNodes {
		wide.Children = append(wide.Children, ErrChild{Node: &ErrNode{}})
	}
	if _, err := ParseErrTree(AppendErrTree(nil, wide)); err == nil {
		t.Fatal("a tree of too many nodes is accepted")
	}
	wide.Children = wide.Children[1:]
	if _, err := ParseErrTree(AppendErrTree(nil, wide)); err != nil {
		t.Fatalf("a tree of the most nodes is refused: %v", err)
	}
	if _, err := ParseErrTree([]byte{nodeEnd, 0, 0, 0, 0, 0, 0}); err == nil {
		t.Fatal("a node of an unknown kind is accepted")
	}
}

// TestResultsRefuseMalformedValues: ParseResults refuses a record whose
// error tree or panic value is malformed, and keeps those of other kinds
// as before.
func TestResultsRefuseMalformedValues(t *testing.T) {
	good := AppendErrTree(nil, sampleTree())
	for _, tc := range []struct {
		name string
		r    Result
		ok   bool
	}{
		{"a tree", Result{ID: 1, Kind: KindError, Value: good}, true},
		{"no tree", Result{ID: 1, Kind: KindError}, true},
		{"a cut tree", Result{ID: 1, Kind: KindError, Value: good[:len(good)-1]}, false},
		{"a tree too deep", Result{ID: 1, Kind: KindError, Value: AppendErrTree(nil, chain(MaxErrDepth+1))}, false},
		{"a panic tree", Result{ID: 1, Kind: KindPanic, Value: AppendPanicValue(nil, PanicError, sampleTree(), "", nil)}, true},
		{"a cut panic tree", Result{ID: 1, Kind: KindPanic, Value: AppendPanicValue(nil, PanicError, sampleTree(), "", nil)[:9]}, false},
		{"a panic value", Result{ID: 1, Kind: KindPanic, Value: AppendPanicValue(nil, PanicValue, nil, "int", []byte{1, 2})}, true},
		{"a panic of an unknown kind", Result{ID: 1, Kind: KindPanic, Value: []byte{7}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got Result
			err := ParseResults(AppendResults(nil, TResults, 1, AppendResult(nil, &tc.r))[5:], func(r *Result) bool { got = *r; return true })
			if (err == nil) != tc.ok {
				t.Fatalf("ParseResults: %v", err)
			}
			if tc.ok && !bytes.Equal(got.Value, tc.r.Value) {
				t.Fatalf("Value %v, want %v", got.Value, tc.r.Value)
			}
		})
	}
	// The Value of other failures is not sent.
	b := AppendResult(nil, &Result{ID: 1, Kind: KindTimeout, Message: "1s", Value: []byte{1}})
	if err := ParseResults(AppendResults(nil, TResults, 1, b)[5:], func(r *Result) bool { return len(r.Value) == 0 }); err != nil {
		t.Fatal(err)
	}
}

func TestPanicValueRoundTrip(t *testing.T) {
	kind, n, typ, val, err := ParsePanicValue(AppendPanicValue(nil, PanicValue, nil, "main.T", []byte{1, 2, 3}))
	if err != nil || kind != PanicValue || n != nil || typ != "main.T" || !bytes.Equal(val, []byte{1, 2, 3}) {
		t.Fatalf("%v %v %q %v %v", kind, n, typ, val, err)
	}
	kind, n, _, _, err = ParsePanicValue(AppendPanicValue(nil, PanicError, sampleTree(), "", nil))
	if err != nil || kind != PanicError || !reflect.DeepEqual(n, sampleTree()) {
		t.Fatalf("%v %+v %v", kind, n, err)
	}
}
