package tsimcne

import "testing"

// TestEmbedBatchSize: by default an embedding step holds the pixels of 500
// images of 32x32 whatever the image size; a set size is kept.
func TestEmbedBatchSize(t *testing.T) {
	for _, tc := range []struct{ set, h, w, want int }{
		{0, 32, 32, 500}, {0, 64, 64, 125}, {0, 96, 96, 55}, {0, 1000, 1000, 8}, {100, 96, 96, 100},
	} {
		c := Config{EmbedBatchSize: tc.set}.withDefaults()
		if got := c.embedBatchSize(tc.h, tc.w); got != tc.want {
			t.Errorf("EmbedBatchSize %d, %dx%d images: %d per step, want %d", tc.set, tc.h, tc.w, got, tc.want)
		}
	}
}
