package data

import (
	"slices"
	"testing"
)

func TestSubsetConcatKeepFiles(t *testing.T) {
	mk := func(name string, n int, first byte) *Dataset {
		ds := &Dataset{Name: name, N: n, Height: 1, Width: 1, Channels: 3, ClassNames: []string{"a", "b"}}
		for i := range n {
			v := first + byte(i)
			ds.Images = append(ds.Images, v, v, v)
			ds.Labels = append(ds.Labels, i%2)
			ds.Files = append(ds.Files, name+string(rune('0'+i)))
		}
		return ds
	}
	a, b := mk("a", 3, 10), mk("b", 2, 20)
	c, err := Concat(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if c.N != 5 || !slices.Equal(c.Files, []string{"a0", "a1", "a2", "b0", "b1"}) ||
		!slices.Equal(c.Labels, []int{0, 1, 0, 0, 1}) || c.Images[3*3] != 20 {
		t.Fatalf("Concat: N=%d files %v labels %v", c.N, c.Files, c.Labels)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	s := c.Subset([]int{4, 0})
	if !slices.Equal(s.Files, []string{"b1", "a0"}) || s.Image(0)[0] != 21 || s.Labels[0] != 1 {
		t.Errorf("Subset: files %v image %v", s.Files, s.Image(0))
	}
	b.Files = nil
	if c, _ := Concat(a, b); c.Files != nil {
		t.Errorf("Concat with a part without files: %v", c.Files)
	}
	s.Files = s.Files[:1]
	if err := s.Validate(); err == nil {
		t.Error("Validate accepted 1 file name for 2 images")
	}
}
