//go:build !unix

package git

import (
	"context"
	"errors"
)

// lockDir needs flock; the cache is not supported on this platform.
func lockDir(context.Context, string) (func(), error) {
	return nil, errors.New("git: the cache needs a Unix file lock (flock)")
}
