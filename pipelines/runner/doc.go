// Package runner runs dpcetl's pipeline for each group: token, export, verified download,
// transform, load, commit, and only then the incremental watermark.
package runner
