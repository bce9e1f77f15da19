package futures

import "github.com/gofutures/futures/internal/value"

// Codec encodes the arguments and results that cross into and out of worker
// processes. Gob and JSON are provided; the Encoding option picks one.
// Implementations must be safe for concurrent use.
//
// What crosses into a worker process with Gob is what gob gives back:
// exported fields only (unexported fields come back zero, chan and func
// fields nil); interface and any values, as arguments, results or fields,
// when their concrete types are registered with gob.Register (otherwise the
// call fails with an error naming the type); nil pointers and interfaces as
// the argument or result as nil, an interface holding a nil pointer as a
// nil interface; nil and empty slices as nil, except that a []byte argument
// or result keeps them apart; nil map fields as nil, empty ones as empty,
// and a nil map as the whole value as an empty map; a pointer field to a
// zero value as nil. A chan or func argument or result, a struct with no
// exported fields (as the value or the type of an exported field), a nil
// pointer in an interface field, a slice or a map, a value that refers to
// itself (on which gob would recurse until the stack overflows, a fatal
// error that recover cannot catch; the pool checks values whose types can
// refer to themselves or hold interfaces, first, but not values of types
// with their own GobEncode or MarshalBinary method) or that nests more than
// 10,000 levels deep, and an argument or result over the frame limit (about
// 1 GiB encoded) fail the call with an error that says so. A []byte
// argument of 64 KiB or more to Submit is written to the worker from the
// caller's slice, not from a copy: as with a goroutine, the slice must not
// change until the call is over. A ProcessPool keeps
// one gob stream per worker process in each direction, so that a type's
// description crosses once per worker, except in values that hold interface
// values, which are described in full every time.
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
	// Gob encodes with encoding/gob. It is the default: it handles any
	// exported Go type with no annotations, but interface values need
	// gob.Register. A ProcessPool describes each type once per worker
	// (see Codec); an executor without connections describes each value.
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
