package futures

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
)

// Codec encodes the arguments and results that cross into and out of worker
// processes. Gob and JSON are provided; the Encoding option picks one.
// Implementations must be safe for concurrent use.
type Codec interface {
	// Name identifies the codec, such as "gob"; parent and workers check
	// that they agree on it.
	Name() string
	// Marshal encodes v.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into v, a pointer.
	Unmarshal(data []byte, v any) error
}

var (
	// Gob encodes with encoding/gob, each value self-described. It is the
	// default: it handles any exported Go type with no annotations, but
	// interface values inside arguments need gob.Register.
	Gob Codec = gobCodec{}
	// JSON encodes with encoding/json: readable, portable, and lossy where
	// JSON is (integers above 2^53 in interfaces, NaN, unexported fields).
	JSON Codec = jsonCodec{}
)

type gobCodec struct{}

func (gobCodec) Name() string { return "gob" }

func (gobCodec) Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (gobCodec) Unmarshal(data []byte, v any) error {
	return gob.NewDecoder(bytes.NewReader(data)).Decode(v)
}

type jsonCodec struct{}

func (jsonCodec) Name() string                       { return "json" }
func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
