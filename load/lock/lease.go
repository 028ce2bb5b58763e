package lock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/dpcetl/dpcetl/load/sink"
)

// Lease takes an S3 lease object at key: created with If-None-Match: * (so of two runs
// racing, exactly one create succeeds), renewed every ttl/3 with If-Match on its own ETag,
// and deleted with If-Match on release. A lease whose holder let it expire, or whose
// holder is a dead process on this host, is taken over with If-Match on the ETag that was
// read, so two runs taking over at once cannot both win. Expiry compares the holder's
// clock with ours: keep hosts on NTP and ttl well above any skew.
func Lease(ctx context.Context, s *sink.S3, key string, self Owner, ttl time.Duration) (*Lock, error) {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	url := s.URL(key)
	bucket, full, ok := strings.Cut(strings.TrimPrefix(url, "s3://"), "/")
	if !ok {
		return nil, fmt.Errorf("lock: cannot locate %s", url)
	}
	ls := &lease{c: s.Client(), bucket: bucket, key: full, url: url, self: self, ttl: ttl}
	for range 5 {
		held, err := ls.tryAcquire(ctx)
		if err != nil || held {
			if err != nil {
				return nil, err
			}
			return ls.start(), nil
		}
	}
	return nil, fmt.Errorf("lock: %s: gave up after repeated contention", url)
}

type lease struct {
	c           *s3.Client
	bucket, key string
	url         string
	self        Owner
	ttl         time.Duration

	mu      sync.Mutex // guards etag and self.Expires
	etag    string
	lock    *Lock
	stop    func()
	stopped chan struct{}
}

func (l *lease) put(ctx context.Context, ifNoneMatch, ifMatch string) (string, error) {
	o := l.self
	o.Expires = time.Now().Add(l.ttl).UTC()
	b, _ := json.MarshalIndent(o, "", "  ")
	in := &s3.PutObjectInput{Bucket: &l.bucket, Key: &l.key, Body: bytes.NewReader(b), ContentType: aws.String("application/json")}
	if ifNoneMatch != "" {
		in.IfNoneMatch = &ifNoneMatch
	}
	if ifMatch != "" {
		in.IfMatch = &ifMatch
	}
	out, err := l.c.PutObject(ctx, in)
	if err != nil {
		return "", err
	}
	l.self.Expires = o.Expires
	return aws.ToString(out.ETag), nil
}

// tryAcquire reports held, or a HeldError, or false when the object changed under it
// (retry).
func (l *lease) tryAcquire(ctx context.Context) (bool, error) {
	etag, err := l.put(ctx, "*", "")
	if err == nil {
		l.etag = etag
		return true, nil
	}
	if !contended(err) {
		return false, fmt.Errorf("lock: create lease %s (the store must support conditional writes, If-None-Match): %w", l.url, err)
	}
	holder, hetag, err := l.read(ctx)
	if errors.Is(err, sink.ErrNotExist) {
		return false, nil // released meanwhile
	}
	if err != nil {
		return false, err
	}
	now := time.Now()
	expired := !holder.Expires.IsZero() && now.After(holder.Expires)
	if !expired && !holder.dead(l.self) {
		return false, &HeldError{Where: l.url, Holder: holder}
	}
	etag, err = l.put(ctx, "", hetag)
	switch {
	case err == nil:
		l.etag = etag
		return true, nil
	case contended(err) || notFound(err):
		return false, nil
	}
	return false, fmt.Errorf("lock: take over stale lease %s: %w", l.url, err)
}

// read returns the lease's holder and ETag. A read racing the holder's renewal may see
// the new body with the old stored checksum (versitygw keeps them apart) or a body that
// does not parse: it is read again.
func (l *lease) read(ctx context.Context) (o Owner, etag string, err error) {
	for range 5 {
		var ok bool
		o, etag, ok, err = l.readOnce(ctx)
		if err != nil || ok {
			return o, etag, err
		}
		time.Sleep(50 * time.Millisecond)
	}
	// An unreadable lease still blocks until it expires by its modification time.
	return o, etag, nil
}

func (l *lease) readOnce(ctx context.Context) (Owner, string, bool, error) {
	out, err := l.c.GetObject(ctx, &s3.GetObjectInput{Bucket: &l.bucket, Key: &l.key}, func(o *s3.Options) {
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	if err != nil {
		if notFound(err) {
			return Owner{}, "", false, sink.ErrNotExist
		}
		return Owner{}, "", false, fmt.Errorf("lock: read lease %s: %w", l.url, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, 64<<10))
	if err != nil {
		return Owner{}, "", false, fmt.Errorf("lock: read lease %s: %w", l.url, err)
	}
	var o Owner
	ok := json.Unmarshal(b, &o) == nil && !o.Expires.IsZero()
	if !ok && out.LastModified != nil {
		o.Expires = out.LastModified.Add(l.ttl)
	}
	return o, aws.ToString(out.ETag), ok, nil
}

func (l *lease) start() *Lock {
	stop := make(chan struct{})
	l.stop, l.stopped = func() { close(stop) }, make(chan struct{})
	l.lock = &Lock{where: l.url, release: l.release}
	go l.renew(stop)
	return l.lock
}

// renew keeps the lease alive. A renewal in flight is never cancelled: one that reached
// the store but not us would leave us with a stale ETag.
func (l *lease) renew(stop <-chan struct{}) {
	defer close(l.stopped)
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		etag, expires := l.etag, l.self.Expires
		rctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
		next, err := l.put(rctx, "", etag)
		cancel()
		if err == nil {
			l.etag = next
		}
		l.mu.Unlock()
		switch {
		case err == nil:
		case contended(err) || notFound(err):
			l.lock.setLost(fmt.Errorf("taken over by another run: %w", err))
			return
		case time.Now().After(expires):
			l.lock.setLost(fmt.Errorf("not renewed before it expired: %w", err))
			return
		}
	}
}

func (l *lease) release(ctx context.Context) error {
	l.stop()
	<-l.stopped
	if l.lock.Err() != nil {
		return nil // not ours any more
	}
	l.mu.Lock()
	etag := l.etag
	l.mu.Unlock()
	_, err := l.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &l.bucket, Key: &l.key, IfMatch: &etag})
	if err == nil || notFound(err) {
		return nil
	}
	// Our ETag may be stale (a renewal whose reply was lost), or the store has no
	// conditional deletes: delete only an object that still carries our token.
	holder, hetag, rerr := l.read(ctx)
	if errors.Is(rerr, sink.ErrNotExist) {
		return nil
	}
	if rerr != nil {
		return fmt.Errorf("lock: release %s: %w", l.url, err)
	}
	if holder.Token != l.self.Token {
		return nil
	}
	in := &s3.DeleteObjectInput{Bucket: &l.bucket, Key: &l.key, IfMatch: &hetag}
	if !contended(err) {
		in.IfMatch = nil
	}
	if _, err := l.c.DeleteObject(ctx, in); err != nil && !notFound(err) {
		return fmt.Errorf("lock: release %s: %w", l.url, err)
	}
	return nil
}

// contended: a precondition failed (412) or a concurrent conditional write conflicted (409).
func contended(err error) bool {
	return s3Is(err, []string{"PreconditionFailed", "ConditionalRequestConflict"}, http.StatusPreconditionFailed, http.StatusConflict)
}

func notFound(err error) bool {
	return s3Is(err, []string{"NoSuchKey", "NotFound"}, http.StatusNotFound)
}

// s3Is reports whether err is an S3 answer with one of the error codes or HTTP statuses.
func s3Is(err error, codes []string, statuses ...int) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) && slices.Contains(codes, ae.ErrorCode()) {
		return true
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && slices.Contains(statuses, re.HTTPStatusCode())
}
