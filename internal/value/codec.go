// Package value encodes the arguments and results of calls that cross a
// process boundary: each value is a tag byte followed by a compact encoding
// of its own for common types (ints, strings, byte slices, ...), or by the
// bytes of a Codec for any other type. Gob and JSON are the codecs provided;
// others are found by name once registered, so that both ends of a call
// agree on the codec by naming it.
//
// Package futures exports the Codec interface, Gob, JSON and RegisterCodec
// over these; an executor that ships calls elsewhere encodes them with
// Append and AppendOf and decodes them with Decode and DecodeFast.
package value

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"sync"
)

// Codec is futures.Codec: it encodes the values that cross into and out of
// worker processes. Implementations must be safe for concurrent use.
type Codec interface {
	// Name identifies the codec, such as "gob"; both ends check that they
	// agree on it.
	Name() string
	// Marshal encodes v.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into v, a pointer.
	Unmarshal(data []byte, v any) error
}

var (
	// Gob encodes with encoding/gob, each value self-described.
	Gob Codec = GobCodec{}
	// JSON encodes with encoding/json.
	JSON Codec = JSONCodec{}
)

// GobCodec is the type of Gob: values with a fast path skip it.
type GobCodec struct{}

// Name returns "gob".
func (GobCodec) Name() string { return "gob" }

// Marshal encodes v with a new gob encoder.
func (GobCodec) Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Unmarshal decodes data, from Marshal, into v.
func (GobCodec) Unmarshal(data []byte, v any) error {
	return gob.NewDecoder(bytes.NewReader(data)).Decode(v)
}

// JSONCodec is the type of JSON: values with a fast path skip it.
type JSONCodec struct{}

// Name returns "json".
func (JSONCodec) Name() string { return "json" }

// Marshal encodes v with json.Marshal.
func (JSONCodec) Marshal(v any) ([]byte, error) { return json.Marshal(v) }

// Unmarshal decodes data with json.Unmarshal.
func (JSONCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

var (
	codecMu sync.Mutex
	codecs  = map[string]Codec{Gob.Name(): Gob, JSON.Name(): JSON}
)

// Register makes c findable by its Name with ByName. It panics for a nil
// codec or a name registered already.
func Register(c Codec) {
	if c == nil {
		panic("futures: RegisterCodec: the codec is nil")
	}
	codecMu.Lock()
	defer codecMu.Unlock()
	if _, dup := codecs[c.Name()]; dup {
		panic(fmt.Sprintf("futures: RegisterCodec: a codec named %q is registered already; give the codec another Name", c.Name()))
	}
	codecs[c.Name()] = c
}

// ByName returns the codec registered as name, or nil.
func ByName(name string) Codec {
	codecMu.Lock()
	defer codecMu.Unlock()
	return codecs[name]
}

// Copies reports whether c copies what it decodes, as Gob and JSON do, so
// that the bytes it decodes from may be reused once the value is decoded,
// if there are at most OwnedAbove of them. Another codec may keep parts of
// them.
func Copies(c Codec) bool {
	return c == Gob || c == JSON
}
