// Package chaos is the `make chaos` suite: the real dpcetl binary SIGKILLed at named and random
// points, S3 (versitygw) killed mid-run and sandbox faults, then checked row by row; see chaos_test.go.
package chaos
