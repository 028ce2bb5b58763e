//go:build !linux

package lock

func procStart(int) string { return "" }
