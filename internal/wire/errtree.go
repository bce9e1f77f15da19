package wire

// The tree of an error that crosses a process: the Value of a KindError
// result, and of a KindPanic result whose panic value is an error. Each
// node is
//
//	kind byte, type string, message string, key string, value bytes,
//	count of Is keys, each a string,
//	count of children, each a field number (uvarint) and a node.
//
// The root's type and message are empty: they are the Type and Message of
// the record that carries the tree.

// Kinds of ErrNode.
const (
	NodeOpaque   byte = iota // an error of a type not registered: Type, Message, Is, Children
	NodeSentinel             // a registered sentinel: Key
	NodeValue                // a value of a registered type: Key, Value (encoded by the codec), Children
	NodeNil                  // a nil pointer of a registered type: Key
	NodeZero                 // the zero value of a registered type: Key, Children
	nodeEnd
)

// Bounds of an error tree. A sender leaves out what lies deeper or beyond;
// a receiver refuses a tree that exceeds them.
const (
	MaxErrDepth = 64   // levels, the root being level 1
	MaxErrNodes = 1000 // nodes in all
)

// ErrNode is one error of an error tree.
type ErrNode struct {
	Kind    byte
	Type    string // the error's Go type, as %T prints it
	Message string // the error's Error() text
	Key     string // the registered name of the sentinel or type
	Value   []byte // NodeValue: the value as the codec encoded it, its error fields nil
	Is      []string
	// Children: of a NodeOpaque node, the errors its Unwrap method
	// returns, with Field 0, and with Field FieldAs the values of
	// registered types its As method gives, or the error itself when it
	// is of a registered type but wraps errors it cannot carry; of a NodeValue or NodeZero node,
	// the values of its exported fields of type error, with Field the
	// field's index plus one.
	Children []ErrChild
}

// FieldAs is the Field of a child of a NodeOpaque node that errors.As
// finds in it, rather than one its Unwrap method returns.
const FieldAs = 1

// ErrChild is a child of an ErrNode.
type ErrChild struct {
	Field uint64
	Node  *ErrNode
}

// AppendErrTree appends the tree rooted at n.
func AppendErrTree(buf []byte, n *ErrNode) []byte {
	buf = append(buf, n.Kind)
	buf = AppendString(buf, n.Type)
	buf = AppendString(buf, n.Message)
	buf = AppendString(buf, n.Key)
	buf = AppendBytes(buf, n.Value)
	buf = AppendUvarint(buf, uint64(len(n.Is)))
	for _, k := range n.Is {
		buf = AppendString(buf, k)
	}
	buf = AppendUvarint(buf, uint64(len(n.Children)))
	for _, c := range n.Children {
		buf = AppendUvarint(buf, c.Field)
		buf = AppendErrTree(buf, c.Node)
	}
	return buf
}

// ParseErrTree decodes a tree from AppendErrTree; the Values alias b. It
// returns an error matching ErrFrame for malformed input or a tree beyond
// MaxErrDepth or MaxErrNodes.
func ParseErrTree(b []byte) (*ErrNode, error) {
	d := NewDecoder(b)
	nodes := 0
	n := parseErrNode(d, 1, &nodes, true)
	if err := d.Finish(); err != nil {
		return nil, err
	}
	return n, nil
}

// checkErrTree reports whether b is a well-formed tree, as ParseErrTree
// would, without building it.
func checkErrTree(b []byte) error {
	d := NewDecoder(b)
	nodes := 0
	parseErrNode(d, 1, &nodes, false)
	return d.Finish()
}

// parseErrNode reads a node at the given depth, building it if build is
// set; *nodes counts the nodes read so far.
func parseErrNode(d *Decoder, depth int, nodes *int, build bool) *ErrNode {
	if *nodes++; *nodes > MaxErrNodes {
		d.fail("error tree of more than %d nodes", MaxErrNodes)
		return nil
	}
	kind := d.Byte()
	if d.Err == nil && kind >= nodeEnd {
		d.fail("error node kind %d", kind)
	}
	typ, msg, key, val := d.Bytes(), d.Bytes(), d.Bytes(), d.Bytes()
	if len(val) == 0 {
		val = nil
	}
	var n *ErrNode
	if build {
		n = &ErrNode{Kind: kind, Type: string(typ), Message: string(msg), Key: string(key), Value: val}
	}
	k := d.Count(1)
	for i := 0; i < k && d.Err == nil; i++ {
		s := d.Bytes()
		if build {
			n.Is = append(n.Is, string(s))
		}
	}
	k = d.Count(2)
	if d.Err == nil && k > 0 && depth >= MaxErrDepth {
		d.fail("error tree deeper than %d", MaxErrDepth)
	}
	for i := 0; i < k && d.Err == nil; i++ {
		field := d.Uvarint()
		c := parseErrNode(d, depth+1, nodes, build)
		if build && d.Err == nil {
			n.Children = append(n.Children, ErrChild{Field: field, Node: c})
		}
	}
	if d.Err != nil {
		return nil
	}
	return n
}
