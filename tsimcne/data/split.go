package data

import (
	"fmt"
	"strings"
)

// Split selects part of a data set with an official train/test division.
type Split int

const (
	// Train is the official training part (50 000 images for CIFAR,
	// 60 000 for (Fashion-)MNIST).
	Train Split = iota
	// Test is the official test part (10 000 images).
	Test
	// All is Train followed by Test. t-SimCNE needs no labels, and the paper
	// trains on all 60 000 CIFAR images.
	All
)

// String returns "train", "test" or "all".
func (s Split) String() string {
	switch s {
	case Train:
		return "train"
	case Test:
		return "test"
	case All:
		return "all"
	}
	return fmt.Sprintf("Split(%d)", int(s))
}

// ParseSplit parses "train", "test" or "all" (case-insensitive).
func ParseSplit(s string) (Split, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "train":
		return Train, nil
	case "test":
		return Test, nil
	case "all":
		return All, nil
	}
	return 0, fmt.Errorf("data: unknown split %q, want train, test or all", s)
}

func (s Split) hasTrain() bool { return s == Train || s == All }
func (s Split) hasTest() bool  { return s == Test || s == All }

func (s Split) check() error {
	if s != Train && s != Test && s != All {
		return fmt.Errorf("data: invalid split %d, want data.Train, data.Test or data.All", int(s))
	}
	return nil
}
