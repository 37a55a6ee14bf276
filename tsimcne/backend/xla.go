//go:build xla

package backend

import (
	// The XLA/PJRT backend: only with -tags xla, so that default builds stay
	// pure Go and never look for PJRT plugins.
	_ "github.com/gomlx/gomlx/backends/xla"
)

func init() { xlaLinked = true }
