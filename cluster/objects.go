package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/remote"
	"github.com/gofutures/futures/internal/wire"
	"github.com/nats-io/nats.go/jetstream"
)

// Values too big for a message of the server go through the pool's object
// store, the bucket FUT_OBJ_<p>, whose storage is the calls stream's:
//
//   - An argument: the pool puts it as the object <client>.<id>.arg before
//     it publishes the call, alone in its message, with no argument bytes
//     and the header headerArgObject naming the object. A worker that is
//     allowed to start the call reads the object; a redelivery reads it
//     again. The pool deletes the object once the call's outcome is final:
//     a result, a failure, a cancellation, a loss (and the reaper that
//     deletes a lost call deletes its object too, whoever's it is).
//   - A result: the worker puts it as the object <client>.<id>.res.<attempt>
//     and sends a KindFail record of Type failObject whose Message names
//     the object. The pool reads and deletes it as it completes the call's
//     future, and deletes at once one whose record it drops (a duplicate).
//
// A pool that stops deletes every object its name prefix still has. An
// object is deleted whole, delete marker included, so that the bucket
// holds nothing of a call that ended.
const (
	headerArgObject = "Fut-Arg-Object"
	failObject      = "futures/cluster.object"
)

// objectWait bounds putting or getting one object: longer than apiWait,
// since an object may be many megabytes.
const objectWait = 2 * time.Minute

// argObject is the name of the object holding the argument of the call id
// of client.
func argObject(client string, id uint64) string {
	return client + "." + strconv.FormatUint(id, 10) + ".arg"
}

// resultObject is the name of the object holding the result of attempt of
// the call id of client.
func resultObject(client string, id uint64, attempt int) string {
	return client + "." + strconv.FormatUint(id, 10) + ".res." + strconv.Itoa(attempt)
}

// objectOf returns the object a result record r refers to, if it does.
func objectOf(r *wire.Result) (string, bool) {
	return r.Message, r.Kind == wire.KindFail && r.Type == failObject
}

// objects is a pool's object store, as a pool or a worker uses it.
type objects struct {
	bucket string
	store  jetstream.ObjectStore
	stream jetstream.Stream // the store's stream, OBJ_<bucket>
}

// ensureObjects creates the object store want if it is missing, and checks
// that an existing one fits want: the same storage, and no TTL that would
// remove the argument of a call still waiting.
func ensureObjects(ctx context.Context, js jetstream.JetStream, want jetstream.ObjectStoreConfig) error {
	o, err := js.CreateObjectStore(ctx, want)
	if errors.Is(err, jetstream.ErrBucketExists) {
		o, err = js.ObjectStore(ctx, want.Bucket) // it exists with another configuration
	}
	if err != nil {
		return fmt.Errorf("futures/cluster: object store %s: %w", want.Bucket, err)
	}
	st, err := o.Status(ctx)
	if err != nil {
		return fmt.Errorf("futures/cluster: object store %s: %w", want.Bucket, err)
	}
	var unfit error
	switch {
	case st.Storage() != want.Storage:
		unfit = mismatch("Storage", st.Storage(), want.Storage, "StoreDir")
	case st.TTL() != want.TTL:
		unfit = mismatch("TTL", st.TTL(), want.TTL, "")
	}
	if unfit != nil {
		return fmt.Errorf("futures/cluster: the existing object store %s %w; remove it or give the pool another Name", want.Bucket, unfit)
	}
	return nil
}

// openObjects binds to the object store of t, which ensure created.
func (t topology) openObjects(ctx context.Context, js jetstream.JetStream) (*objects, error) {
	store, err := js.ObjectStore(ctx, t.objects.Bucket)
	if err != nil {
		return nil, fmt.Errorf("futures/cluster: object store %s: %w", t.objects.Bucket, err)
	}
	stream, err := js.Stream(ctx, "OBJ_"+t.objects.Bucket)
	if err != nil {
		return nil, fmt.Errorf("futures/cluster: object store %s: %w", t.objects.Bucket, err)
	}
	return &objects{bucket: t.objects.Bucket, store: store, stream: stream}, nil
}

// put stores data as the object name.
func (o *objects) put(name string, data []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), objectWait)
	defer cancel()
	if _, err := o.store.PutBytes(ctx, name, data); err != nil {
		return fmt.Errorf("futures/cluster: storing %d bytes in the object store %s: %w", len(data), o.bucket, err)
	}
	return nil
}

// get returns the bytes of the object name, checked against the size and
// digest of its description.
func (o *objects) get(ctx context.Context, name string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, objectWait)
	defer cancel()
	data, err := o.read(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("futures/cluster: reading %s from the object store %s: %w", name, o.bucket, err)
	}
	return data, nil
}

// getBatch is how many chunks get asks the server for at once.
const getBatch = 64

// read reads the chunks of the object name with a pull consumer of its
// own, into a buffer of the object's size: several times faster than the
// object store's Get, which pipes them through a push subscription.
func (o *objects) read(ctx context.Context, name string) ([]byte, error) {
	info, err := o.store.GetInfo(ctx, name)
	if err != nil {
		return nil, err
	}
	want, ok := strings.CutPrefix(info.Digest, "SHA-256=")
	if !ok || info.Size > 1<<40 {
		return nil, fmt.Errorf("a description without a SHA-256 digest or with size %d", info.Size)
	}
	data := make([]byte, 0, info.Size)
	if info.Chunks > 0 {
		cons, err := o.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{"$O." + o.bucket + ".C." + info.NUID},
		})
		if err != nil {
			return nil, err
		}
		defer o.stream.DeleteConsumer(context.Background(), cons.CachedInfo().Name)
		for got := uint32(0); got < info.Chunks; {
			batch, err := cons.Fetch(int(min(info.Chunks-got, getBatch)), jetstream.FetchContext(ctx))
			if err != nil {
				return nil, err
			}
			for m := range batch.Messages() {
				data = append(data, m.Data()...)
				got++
			}
			if err := batch.Error(); err != nil {
				return nil, err
			}
		}
	}
	sum := sha256.Sum256(data)
	if uint64(len(data)) != info.Size || base64.URLEncoding.EncodeToString(sum[:]) != want {
		return nil, fmt.Errorf("the object's %d bytes do not match its description (%d bytes, digest %s)", len(data), info.Size, want)
	}
	return data, nil
}

// remove deletes the object name whole: its chunks and its description,
// leaving no delete marker behind. An object that does not exist is no
// error.
func (o *objects) remove(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), apiWait)
	defer cancel()
	info, err := o.store.GetInfo(ctx, name, jetstream.GetObjectInfoShowDeleted())
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	// The subjects of the object store's layout: $O.<bucket>.C.<nuid> for
	// the chunks, $O.<bucket>.M.<base64 name> for the description.
	if info.NUID != "" {
		if err := o.stream.Purge(ctx, jetstream.WithPurgeSubject("$O."+o.bucket+".C."+info.NUID)); err != nil {
			return err
		}
	}
	return o.stream.Purge(ctx, jetstream.WithPurgeSubject("$O."+o.bucket+".M."+base64.URLEncoding.EncodeToString([]byte(name))))
}

// removePrefix deletes every object whose name starts with prefix.
func (o *objects) removePrefix(prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), apiWait)
	defer cancel()
	infos, err := o.store.List(ctx, jetstream.ListObjectsShowDeleted())
	if err != nil {
		return // jetstream.ErrNoObjectsFound, or the server is gone
	}
	for _, info := range infos {
		if strings.HasPrefix(info.Name, prefix) {
			o.remove(info.Name)
		}
	}
}

// dropObject deletes the object name, away from the caller: on the pool's
// goroutine for objects, which release waits for.
func (p *Pool) dropObject(name string) {
	p.gc.add(func() { p.objs.remove(name) })
}

// completeFromObject completes t, a call of fn, with the value in the
// object name, which it then deletes; it runs on the pool's goroutine for
// objects.
func (p *Pool) completeFromObject(t futures.Task, fn *registry.Func, name string) {
	data, err := p.objs.get(context.Background(), name)
	p.objs.remove(name)
	if err != nil {
		p.undecodable()
		remote.End(t, nil, err, p.later)
		return
	}
	remote.Complete(t, fn.Name(), p.codec, data, p.later, p.uncount)
}
