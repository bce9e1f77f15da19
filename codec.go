package futures

import "github.com/gofutures/futures/internal/value"

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

// gobCodec and jsonCodec are the types of Gob and JSON, whose values
// internal/value encodes on its fast path.
type (
	gobCodec  = value.GobCodec
	jsonCodec = value.JSONCodec
)

// RegisterCodec makes a Codec other than Gob and JSON usable with the
// Encoding option: worker processes find the pool's codec by its Name, so
// the program must register it in an init function, as it does its
// functions. It panics for a nil codec or a name registered already.
func RegisterCodec(c Codec) {
	value.Register(c)
}
