package main

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/gosimcne/gosimcne/tsimcne"
	"github.com/gosimcne/gosimcne/tsimcne/data"
)

// stagesValue is a flag holding one int per training stage, "a,b,c".
type stagesValue struct {
	v   [3]int
	set bool
	// zeroOK accepts 0,0,0 (warm-up epochs), which makes no sense for epochs.
	zeroOK bool
}

func (s *stagesValue) String() string {
	if s == nil || !s.set {
		return ""
	}
	return fmt.Sprintf("%d,%d,%d", s.v[0], s.v[1], s.v[2])
}

func (s *stagesValue) Set(text string) error {
	parts := strings.Split(text, ",")
	if len(parts) != 3 {
		return fmt.Errorf("want three numbers, one per stage, like 1000,50,450")
	}
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 0 {
			return fmt.Errorf("stage %d: %q is not a number >= 0", i+1, p)
		}
		s.v[i] = n
	}
	if s.v == [3]int{} && !s.zeroOK {
		return fmt.Errorf("all three stages are 0")
	}
	s.set = true
	return nil
}

// factorsValue is a flag of three non-negative numbers, one per stage.
type factorsValue struct {
	v   [3]float64
	set bool
}

func (s *factorsValue) String() string {
	if s == nil || !s.set {
		return ""
	}
	return fmt.Sprintf("%g,%g,%g", s.v[0], s.v[1], s.v[2])
}

func (s *factorsValue) Set(text string) error {
	parts := strings.Split(text, ",")
	if len(parts) != 3 {
		return fmt.Errorf("want three numbers, one per stage, like 1,1,0.001")
	}
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || !(f >= 0) || math.IsInf(f, 0) {
			return fmt.Errorf("stage %d: %q is not a finite number >= 0", i+1, p)
		}
		s.v[i] = f
	}
	s.set = true
	return nil
}

// limitValue is a number of images: N, or "all" (0).
type limitValue struct {
	n   int
	set bool
}

func (l *limitValue) String() string {
	if l == nil || !l.set {
		return ""
	}
	if l.n == 0 {
		return "all"
	}
	return strconv.Itoa(l.n)
}

func (l *limitValue) Set(text string) error {
	t := strings.TrimSpace(text)
	if strings.EqualFold(t, "all") {
		l.n, l.set = 0, true
		return nil
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 {
		return fmt.Errorf("want a number of images >= 0, or all")
	}
	l.n, l.set = n, true
	return nil
}

// choiceValue is a string flag restricted to a few values.
type choiceValue struct {
	v       string
	choices []string
}

func newChoice(def string, choices ...string) *choiceValue {
	return &choiceValue{v: def, choices: choices}
}

func (c *choiceValue) String() string {
	if c == nil {
		return ""
	}
	return c.v
}

func (c *choiceValue) Set(text string) error {
	t := strings.ToLower(strings.TrimSpace(text))
	for _, ch := range c.choices {
		if t == ch {
			c.v = ch
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(c.choices, ", "))
}

// splitValue is a -split flag.
type splitValue struct{ v data.Split }

func (s *splitValue) String() string {
	if s == nil {
		return ""
	}
	return s.v.String()
}

func (s *splitValue) Set(text string) error {
	v, err := data.ParseSplit(text)
	if err != nil {
		return fmt.Errorf("want train, test or all")
	}
	s.v = v
	return nil
}

// progressMode maps -progress to the library's Progress; "auto" shows a
// progress bar on a terminal and one line per epoch otherwise (logs,
// notebooks' shell cells, tests).
func progressMode(mode string, stdout any) tsimcne.Progress {
	switch mode {
	case "bar":
		return tsimcne.ProgressBar
	case "lines":
		return tsimcne.ProgressLines
	case "off":
		return tsimcne.ProgressOff
	}
	if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return tsimcne.ProgressBar
	}
	return tsimcne.ProgressLines
}
