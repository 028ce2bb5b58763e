package sink

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const (
	// MinPartSize is the smallest part S3 accepts (except the last one).
	MinPartSize = 5 << 20
	// DefaultPartSize is the part size used when S3Options.PartSize is zero.
	DefaultPartSize = 16 << 20
	// maxCopySize is the largest object a single CopyObject may copy.
	maxCopySize = 5 << 30
	// copyPartSize is the range size of each UploadPartCopy for larger objects.
	copyPartSize = 512 << 20
	// cleanupTimeout bounds AbortMultipartUpload after the caller's context is gone.
	cleanupTimeout = 30 * time.Second
)

// S3Options configure the S3 sink. Credentials come from the standard AWS chain (env,
// shared config/profile, web identity, ECS/EC2 roles) unless AccessKeyID is set.
type S3Options struct {
	Region          string // default: from the AWS config chain, else us-east-1
	Endpoint        string // custom endpoint for S3-compatible stores, e.g. http://127.0.0.1:7070
	PathStyle       bool   // path-style addressing (needed by most S3-compatible stores)
	SSE             string // "", "AES256" or "aws:kms"
	KMSKeyID        string // with SSE "aws:kms": the key id/ARN (empty = the bucket's default key)
	PartSize        int64  // multipart part size in bytes (>= 5 MiB); memory per writer: see MemoryPerWriter
	Concurrency     int    // parts uploaded in parallel per writer (default 2)
	MaxAttempts     int    // attempts per request including retries (default 5)
	AccessKeyID     string // optional static credentials
	SecretAccessKey string
	SessionToken    string
	// CopyThreshold is the object size above which Rename uses multipart copy (default 5 GiB,
	// the CopyObject limit); tests lower it.
	CopyThreshold int64
	// CopyPartSize is the range size of multipart copy parts (default 512 MiB).
	CopyPartSize int64
}

func (o S3Options) fromQuery(q url.Values) (S3Options, error) {
	for k := range q {
		switch k {
		case "region", "endpoint", "path_style", "sse", "kms_key_id", "part_size", "concurrency", "max_attempts":
		default:
			return o, fmt.Errorf("unknown s3 URL parameter %q", k)
		}
	}
	if v := q.Get("region"); v != "" {
		o.Region = v
	}
	if v := q.Get("endpoint"); v != "" {
		o.Endpoint = v
	}
	if v := q.Get("path_style"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return o, fmt.Errorf("path_style: %w", err)
		}
		o.PathStyle = b
	}
	if v := q.Get("sse"); v != "" {
		o.SSE = v
	}
	if v := q.Get("kms_key_id"); v != "" {
		o.KMSKeyID = v
	}
	for name, dst := range map[string]*int64{"part_size": &o.PartSize} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return o, fmt.Errorf("%s: %w", name, err)
			}
			*dst = n
		}
	}
	for name, dst := range map[string]*int{"concurrency": &o.Concurrency, "max_attempts": &o.MaxAttempts} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return o, fmt.Errorf("%s: %w", name, err)
			}
			*dst = n
		}
	}
	return o, nil
}

// S3 is a Sink on an S3 bucket (or an S3-compatible store) under a key prefix.
// Writers stream multipart uploads with memory bounded by the part size; the upload is
// completed only in Commit and aborted on Abort, error or cancellation.
type S3 struct {
	client   *s3.Client
	uploader *transfermanager.Client
	bucket   string
	prefix   string // "" or ends without slash
	opts     S3Options
}

// NewS3 returns a sink for s3://bucket/prefix.
func NewS3(ctx context.Context, bucket, prefix string, o S3Options) (*S3, error) {
	if bucket == "" {
		return nil, errors.New("sink: s3 URL needs a bucket (s3://bucket/prefix)")
	}
	if prefix != "" {
		if err := ValidateKey(prefix); err != nil {
			return nil, fmt.Errorf("sink: s3 prefix: %w", err)
		}
	}
	switch o.SSE {
	case "", string(types.ServerSideEncryptionAes256), string(types.ServerSideEncryptionAwsKms):
	default:
		return nil, fmt.Errorf("sink: sse %q: want AES256 or aws:kms", o.SSE)
	}
	if o.KMSKeyID != "" && o.SSE != string(types.ServerSideEncryptionAwsKms) {
		return nil, errors.New("sink: kms_key_id needs sse=aws:kms")
	}
	if o.PartSize == 0 {
		o.PartSize = DefaultPartSize
	}
	if o.PartSize < MinPartSize {
		return nil, fmt.Errorf("sink: part size %d is below the S3 minimum %d", o.PartSize, MinPartSize)
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 2
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.CopyThreshold <= 0 {
		o.CopyThreshold = maxCopySize
	}
	if o.CopyPartSize <= 0 {
		o.CopyPartSize = copyPartSize
	}
	loadOpts := []func(*config.LoadOptions) error{config.WithRetryMaxAttempts(o.MaxAttempts)}
	if o.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(o.Region))
	}
	if o.AccessKeyID != "" {
		loadOpts = append(loadOpts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, o.SessionToken)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("sink: load AWS config: %w: %w", ErrMisconfigured, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Credentials != nil {
		cfg.Credentials = classifiedCredentials{cfg.Credentials}
	}
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
		so.UsePathStyle = o.PathStyle
		// Multipart objects have no whole-object checksum to validate; the SDK would log a warning per Get.
		so.DisableLogOutputChecksumValidationSkipped = true
	})
	uploader := transfermanager.New(client, func(to *transfermanager.Options) {
		to.PartSizeBytes = o.PartSize
		to.MultipartUploadThreshold = o.PartSize
		to.Concurrency = o.Concurrency
		// Aborting a multipart upload must still reach S3 after the caller's context is gone.
		to.FailTimeout = cleanupTimeout
	})
	return &S3{client: client, uploader: uploader, bucket: bucket, prefix: prefix, opts: o}, nil
}

// classifiedCredentials marks a failure to find credentials (no keys, no role, an expired SSO
// session) as a misconfiguration, which the SDK would otherwise report as an untyped error.
type classifiedCredentials struct{ aws.CredentialsProvider }

func (c classifiedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	cr, err := c.CredentialsProvider.Retrieve(ctx)
	if err != nil {
		return cr, fmt.Errorf("%w: no usable AWS credentials: %w", ErrMisconfigured, err)
	}
	return cr, nil
}

// S3 error codes by what the user has to do about them.
var (
	deniedCodes = map[string]bool{"AccessDenied": true, "InvalidAccessKeyId": true, "SignatureDoesNotMatch": true,
		"ExpiredToken": true, "InvalidToken": true, "TokenRefreshRequired": true, "AllAccessDisabled": true,
		"AccountProblem": true, "InvalidSecurity": true, "Forbidden": true, "XAdminUserNotFound": true}
	misconfiguredCodes = map[string]bool{"NoSuchBucket": true, "InvalidBucketName": true, "PermanentRedirect": true,
		"AuthorizationHeaderMalformed": true, "IllegalLocationConstraintException": true, "RequestTimeTooSkewed": true,
		"InvalidRegion": true, "KMS.NotFoundException": true}
	unavailableCodes = map[string]bool{"SlowDown": true, "Throttling": true, "ThrottlingException": true,
		"RequestThrottled": true, "TooManyRequests": true, "RequestTimeout": true, "InternalError": true,
		"ServiceUnavailable": true}
)

// classify wraps an S3 error with ErrAccessDenied, ErrMisconfigured or ErrUnavailable when
// its code, status or transport failure says which; anything else is returned as is.
func classify(err error) error {
	if errors.Is(err, ErrAccessDenied) || errors.Is(err, ErrMisconfigured) || errors.Is(err, ErrUnavailable) {
		return err
	}
	var kind error
	var ae smithy.APIError
	var re *awshttp.ResponseError
	var se *smithyhttp.RequestSendError
	code := ""
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	switch {
	case deniedCodes[code]:
		kind = ErrAccessDenied
	case misconfiguredCodes[code]:
		kind = ErrMisconfigured
	case unavailableCodes[code]:
		kind = ErrUnavailable
	case errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden:
		kind = ErrAccessDenied
	case errors.As(err, &re) && re.HTTPStatusCode() == http.StatusMovedPermanently:
		kind = ErrMisconfigured
	case errors.As(err, &re) && (re.HTTPStatusCode() == http.StatusTooManyRequests || re.HTTPStatusCode() >= 500):
		kind = ErrUnavailable
	case errors.As(err, &se):
		kind = ErrUnavailable
	default:
		return err
	}
	return fmt.Errorf("%w: %w", kind, err)
}

// Probe implements Sink: a probe object written, read back and deleted proves the
// credentials, the bucket, its region and the put/get/delete permissions a run needs.
func (s *S3) Probe(ctx context.Context) error { return probe(ctx, s) }

// Client returns the underlying S3 client (e.g. to create buckets in tests).
func (s *S3) Client() *s3.Client { return s.client }

func (s *S3) full(key string) string {
	if s.prefix == "" {
		return key
	}
	return s.prefix + "/" + key
}

func (s *S3) rel(full string) string {
	if s.prefix == "" {
		return full
	}
	return strings.TrimPrefix(full, s.prefix+"/")
}

// URL implements Sink.
func (s *S3) URL(key string) string { return "s3://" + s.bucket + "/" + s.full(key) }

// Close implements Sink.
func (s *S3) Close() error { return nil }

func isNotFound(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return true
		}
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}

// NewWriter implements Sink. The SDK's transfer manager reads the writer's bytes through a pipe:
// objects under one part go up as one PutObject, larger ones as a multipart upload that is
// completed only when Commit closes the pipe. Abort, a write error or the end of ctx closes the
// pipe with an error instead, so the manager never completes and aborts the multipart upload.
func (s *S3) NewWriter(ctx context.Context, key string) (Writer, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("write %s: %w", s.URL(key), err)
	}
	pr, pw := io.Pipe()
	// The upload outlives ctx on purpose: its end closes the pipe (see abortLocked), which
	// lets in-flight parts finish before the manager aborts, so no part lands after the abort.
	uctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	w := &s3Writer{url: s.URL(key), parent: ctx, pw: pw, cancel: cancel, finished: make(chan struct{})}
	in := &transfermanager.UploadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.full(key)), Body: pr}
	if s.opts.SSE != "" {
		in.ServerSideEncryption = tmtypes.ServerSideEncryption(s.opts.SSE)
	}
	if s.opts.KMSKeyID != "" {
		in.SSEKMSKeyID = aws.String(s.opts.KMSKeyID)
	}
	go func() {
		defer close(w.finished)
		_, err := s.uploader.UploadObject(uctx, in)
		if err != nil {
			w.err = fmt.Errorf("upload %s: %w", w.url, classify(err))
		}
		// Unblocks a Write waiting for a reader that is gone.
		pr.CloseWithError(cmp.Or(w.err, ErrClosed))
	}()
	w.watch(ctx, w.abortLocked)
	return w, nil
}

// MemoryPerWriter is the most memory one open writer holds in part buffers: the first part,
// read before the manager knows whether the object needs a multipart upload, plus
// Concurrency+1 pooled parts. A run's memory budget divided by it bounds the open writers.
func (s *S3) MemoryPerWriter() int64 { return s.opts.PartSize * int64(s.opts.Concurrency+2) }

type s3Writer struct {
	url    string
	parent context.Context // the caller's context: its end means abort
	pw     *io.PipeWriter
	cancel context.CancelCauseFunc // stops the upload's in-flight requests

	abortable               // its mu serialises Commit and Abort; Write only checks done under it
	finished  chan struct{} // closed when the upload returned; err is set before
	err       error
}

func (w *s3Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	done := w.done
	w.mu.Unlock()
	if done {
		return 0, fmt.Errorf("write %s: %w", w.url, ErrClosed)
	}
	if err := w.parent.Err(); err != nil {
		return 0, fmt.Errorf("write %s: %w", w.url, err)
	}
	// Not under mu: the pipe blocks until the manager has buffered p, and Abort must be able to
	// interrupt that.
	n, err := w.pw.Write(p)
	if err != nil {
		select {
		case <-w.finished:
			if w.err != nil {
				return n, w.err
			}
		default:
		}
		return n, fmt.Errorf("write %s: %w", w.url, err)
	}
	return n, nil
}

func (w *s3Writer) Commit() error {
	w.stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return w.closedErr(w.url)
	}
	if err := w.parent.Err(); err != nil {
		_ = w.abortLocked()
		return fmt.Errorf("commit %s: %w", w.url, err)
	}
	w.done = true
	// From here the end of ctx must stop the completion itself.
	unwatch := context.AfterFunc(w.parent, func() { w.cancel(context.Cause(w.parent)) })
	defer unwatch()
	_ = w.pw.Close() // EOF: the manager sends the last part and completes
	<-w.finished
	w.cancel(nil)
	return w.err
}

func (w *s3Writer) abortLocked() error {
	w.done = true
	w.pw.CloseWithError(ErrClosed)
	t := time.NewTimer(cleanupTimeout)
	defer t.Stop()
	select {
	case <-w.finished:
	case <-t.C: // a part stuck on a dead connection: cancel it, the abort has its own context
		w.cancel(ErrClosed)
		<-w.finished
	}
	w.cancel(ErrClosed)
	return nil
}

func (s *S3) applySSE(sse *types.ServerSideEncryption, kms **string) {
	if s.opts.SSE != "" {
		*sse = types.ServerSideEncryption(s.opts.SSE)
	}
	if s.opts.KMSKeyID != "" {
		*kms = aws.String(s.opts.KMSKeyID)
	}
}

// Get implements Sink.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.full(key))})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("get %s: %w", s.URL(key), ErrNotExist)
		}
		return nil, fmt.Errorf("get %s: %w", s.URL(key), classify(err))
	}
	return out.Body, nil
}

// Stat implements Sink.
func (s *S3) Stat(ctx context.Context, key string) (Object, error) {
	if err := ValidateKey(key); err != nil {
		return Object{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.full(key))})
	if err != nil {
		if isNotFound(err) {
			return Object{}, fmt.Errorf("stat %s: %w", s.URL(key), ErrNotExist)
		}
		return Object{}, fmt.Errorf("stat %s: %w", s.URL(key), classify(err))
	}
	return Object{Key: key, Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified)}, nil
}

// List implements Sink.
func (s *S3) List(ctx context.Context, prefix string) ([]Object, error) {
	full := s.prefix
	if full != "" {
		full += "/"
	}
	full += prefix
	var out []Object
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(full)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", s.URL(prefix), classify(err))
		}
		for _, o := range page.Contents {
			k := aws.ToString(o.Key)
			if strings.HasSuffix(k, "/") {
				continue // directory marker objects some stores report
			}
			out = append(out, Object{Key: s.rel(k), Size: aws.ToInt64(o.Size), ModTime: aws.ToTime(o.LastModified)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Delete implements Sink.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.full(key))})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("delete %s: %w", s.URL(key), classify(err))
	}
	return nil
}

// DeletePrefix implements Sink: it deletes committed objects and aborts incomplete
// multipart uploads (which are invisible but cost storage) under prefix.
func (s *S3) DeletePrefix(ctx context.Context, prefix string) error {
	if prefix == "" {
		return fmt.Errorf("%w: DeletePrefix needs a non-empty prefix", ErrInvalidKey)
	}
	if err := validatePrefix(prefix); err != nil {
		return err
	}
	objs, err := s.List(ctx, prefix)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := s.Delete(ctx, o.Key); err != nil {
			return err
		}
	}
	full := s.full(strings.TrimSuffix(prefix, "/")) + "/"
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(s.bucket), Prefix: aws.String(full)}
	for {
		out, err := s.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return fmt.Errorf("list uploads %s: %w", s.URL(prefix), classify(err))
		}
		for _, u := range out.Uploads {
			_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(s.bucket), Key: u.Key, UploadId: u.UploadId})
			if err != nil && !isNotFound(err) {
				return fmt.Errorf("abort upload s3://%s/%s: %w", s.bucket, aws.ToString(u.Key), classify(err))
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

func copySource(bucket, key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		// PathEscape leaves '+' alone, which servers decode as a space.
		segs[i] = strings.ReplaceAll(url.PathEscape(s), "+", "%2B")
	}
	return bucket + "/" + strings.Join(segs, "/")
}

// Rename implements Sink: a server-side copy (multipart copy above CopyThreshold), then delete.
func (s *S3) Rename(ctx context.Context, src, dst string) error {
	if err := ValidateKey(src); err != nil {
		return err
	}
	if err := ValidateKey(dst); err != nil {
		return err
	}
	fail := func(err error) error { return fmt.Errorf("rename %s to %s: %w", s.URL(src), s.URL(dst), classify(err)) }
	st, err := s.Stat(ctx, src)
	if err != nil {
		return fail(err)
	}
	if st.Size <= s.opts.CopyThreshold {
		in := &s3.CopyObjectInput{
			Bucket:     aws.String(s.bucket),
			Key:        aws.String(s.full(dst)),
			CopySource: aws.String(copySource(s.bucket, s.full(src))),
		}
		s.applySSE(&in.ServerSideEncryption, &in.SSEKMSKeyId)
		if _, err := s.client.CopyObject(ctx, in); err != nil {
			return fail(err)
		}
	} else if err := s.multipartCopy(ctx, src, dst, st.Size); err != nil {
		return fail(err)
	}
	if err := s.Delete(ctx, src); err != nil {
		return fail(err)
	}
	return nil
}

func (s *S3) multipartCopy(ctx context.Context, src, dst string, size int64) (err error) {
	in := &s3.CreateMultipartUploadInput{Bucket: aws.String(s.bucket), Key: aws.String(s.full(dst))}
	s.applySSE(&in.ServerSideEncryption, &in.SSEKMSKeyId)
	out, err := s.client.CreateMultipartUpload(ctx, in)
	if err != nil {
		return err
	}
	id := out.UploadId
	defer func() {
		if err != nil {
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			defer cancel()
			_, _ = s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: aws.String(s.bucket), Key: aws.String(s.full(dst)), UploadId: id})
		}
	}()
	var parts []types.CompletedPart
	for off, num := int64(0), int32(1); off < size; off, num = off+s.opts.CopyPartSize, num+1 {
		end := min(off+s.opts.CopyPartSize, size) - 1
		pout, err := s.client.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
			Bucket:          aws.String(s.bucket),
			Key:             aws.String(s.full(dst)),
			UploadId:        id,
			PartNumber:      aws.Int32(num),
			CopySource:      aws.String(copySource(s.bucket, s.full(src))),
			CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", off, end)),
		})
		if err != nil {
			return fmt.Errorf("copy part %d: %w", num, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(num), ETag: pout.CopyPartResult.ETag})
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(s.full(dst)), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	return err
}
