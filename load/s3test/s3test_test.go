package s3test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestMissingBinaryNamesInstallCommand(t *testing.T) {
	notFound := func(string) (string, error) { return "", exec.ErrNotFound }
	_, err := findBinary(notFound, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), InstallCommand) {
		t.Fatalf("error %v does not give the install command", err)
	}
}

func TestStartKillRestart(t *testing.T) {
	srv := Start(t)
	c := srv.client(t)
	ctx := context.Background()
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(srv.Bucket)}); err != nil {
		t.Fatalf("bucket not created: %v", err)
	}
	srv.Kill()
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(srv.Bucket)}); err == nil {
		t.Fatal("server still answers after Kill")
	}
	if _, err := srv.Pid(); !errors.Is(err, errNotRunning) {
		t.Errorf("Pid after Kill: %v", err)
	}
	srv.Restart()
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(srv.Bucket)}); err != nil {
		t.Fatalf("bucket gone after restart: %v", err)
	}
}

func ExampleBinary() {
	// Tests call Start(t), which fails (never skips) when the binary is missing.
	fmt.Println(InstallCommand)
	// Output: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
}
