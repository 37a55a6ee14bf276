// Command tsimcne trains t-SimCNE maps of image collections and works with
// the results: it downloads CIFAR, trains (resumably) with a preset, embeds
// images with a trained run, computes kNN accuracies, draws the pictures and
// computes the pixel-space baseline.
//
//	tsimcne download                          # CIFAR-10 into the data folder
//	tsimcne train -preset quick               # a smoke test, minutes on a CPU
//	tsimcne train -preset cpu -out runs/c10   # CIFAR-10 map, about an hour on 2 cores
//	tsimcne train -out runs/c10 -resume       # continue after Ctrl-C
//	tsimcne eval -run runs/c10 -k 5
//	tsimcne plot -run runs/c10
//	tsimcne embed -run runs/c10 -dataset cifar10 -split test -out test.csv
//	tsimcne baseline -dataset cifar10         # kNN accuracy of raw pixels
//	tsimcne backends                          # pure Go or XLA (GPU)
//
// Run `tsimcne help <command>` for each command's flags. A run folder
// (train's -out) holds checkpoints/, config.json, run.json,
// embedding_train.npy/.csv, embedding_test.npy/.csv, metrics.json,
// history.json and the pictures history.png, map.png, map.svg,
// thumbnails.png, outliers.png, outliers_map.png, outliers.csv and map.html.
//
// Memory: unless the GOGC environment variable is set, the command runs the
// Go garbage collector at GOGC=25 instead of Go's default 100 (see
// defaultGCPercent).
//
// Memory guard: when the command's resident memory passes memoryGuard of the
// machine's (Linux), it stops with a message saying so and what to change,
// instead of being killed by the system's out-of-memory killer without one;
// a training run keeps its last finished epoch's checkpoint.
//
// Exit codes: 0 success, 1 error, 2 bad command line, 3 stopped by the
// memory guard, 130 training interrupted (Ctrl-C or SIGTERM; a checkpoint
// was saved, resume with -resume).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/gosimcne/gosimcne/internal/memstat"
)

// defaultGCPercent is the GOGC the command sets when the environment does not
// set one. Nearly all of a training run's memory is tensor buffers that the
// pure-Go backend recycles through pools; at Go's default of 100 the heap may
// grow to twice what those hold before a collection, and the `cpu` preset
// peaked at 3.8 GiB (2 epochs); at 25 it peaked at 2.1 GiB with the same
// epoch times (10 was 35% slower). Measured in BENCHMARKS.md.
const defaultGCPercent = 25

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	stop := memstat.Guard(memoryGuard*memstat.TotalMiB(), 250*time.Millisecond, func(rss float64) {
		fmt.Fprint(os.Stderr, memoryMessage(rss, memstat.TotalMiB()))
		os.Exit(exitMemory)
	})
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// memoryGuard is the share of the machine's memory at which the command
// stops itself (see the package comment): high enough not to stop a run
// that would have finished, low enough to speak before the kernel kills.
const memoryGuard = 0.92

// memoryMessage is what the memory guard says when it stops the command.
func memoryMessage(rssMiB, totalMiB float64) string {
	return fmt.Sprintf("tsimcne: stopping: the command holds %.1f GiB of the machine's %.1f GiB of memory, and the system would "+
		"kill it next without a word.\nA training run keeps the checkpoint of its last finished epoch (continue with -resume). "+
		"Memory grows with the views per step and the pixels per image: lower -batch, or -image-size (README, Presets: "+
		"ResNet-18 at 96 px needs -batch 8 on CPUs).\n", rssMiB/1024, totalMiB/1024)
}

// Exit codes of the command.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitMemory      = 3
	exitInterrupted = 130
)

// env is what a subcommand runs with: where to write, and a context that
// tests cancel to simulate an interrupt.
type env struct {
	ctx            context.Context
	stdout, stderr io.Writer
}

func (e *env) printf(format string, args ...any) { fmt.Fprintf(e.stdout, format, args...) }

// command is one subcommand.
type command struct {
	name     string
	synopsis string // one line, for the command list
	usage    string // "tsimcne train [flags]"
	help     string // what it does, before the flags
	examples string // after the flags
	run      func(e *env, args []string) error
	// flags defines the command's flags on fs, for the usage text.
	flags func(fs *flag.FlagSet)
}

// commands returns the subcommands by name.
func commands() map[string]*command {
	cmds := []*command{downloadCommand(), trainCommand(), embedCommand(), exportCommand(), evalCommand(),
		plotCommand(), baselineCommand(), tsneCommand(), backendsCommand()}
	m := make(map[string]*command, len(cmds))
	for _, c := range cmds {
		m[c.name] = c
	}
	return m
}

// commandOrder is the order of the command list in the usage text.
var commandOrder = []string{"download", "train", "embed", "eval", "plot", "baseline", "tsne", "backends"}

// run is main without os.Exit: it runs the command line args (without the
// program name) and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr)
}

// runContext is run with a context whose cancellation acts like Ctrl-C
// during training.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 {
		mainUsage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && name == "help" {
			c, ok := cmds[args[1]]
			if !ok {
				fmt.Fprintf(stderr, "tsimcne help: unknown command %q\n\n", args[1])
				mainUsage(stderr)
				return exitUsage
			}
			commandUsage(c, stdout)
			return exitOK
		}
		mainUsage(stdout)
		return exitOK
	}
	c, ok := cmds[name]
	if !ok {
		fmt.Fprintf(stderr, "tsimcne: unknown command %q\n\n", name)
		mainUsage(stderr)
		return exitUsage
	}
	e := &env{ctx: ctx, stdout: stdout, stderr: stderr}
	err := c.run(e, args[1:])
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errHelp):
		commandUsage(c, stdout)
		return exitOK
	case errors.As(err, &ue):
		if ue.msg != "" {
			fmt.Fprintf(stderr, "tsimcne %s: %s\n", c.name, ue.msg)
		}
		if ue.full {
			flagsUsage(c, stderr)
		} else {
			fmt.Fprintf(stderr, "usage: %s\nRun 'tsimcne help %s' for the flags and examples.\n", c.usage, c.name)
		}
		return exitUsage
	case errors.Is(err, errInterruptedExit):
		return exitInterrupted
	default:
		fmt.Fprintf(stderr, "tsimcne %s: %v\n", c.name, withHints(err))
		return exitError
	}
}

// errHelp asks for the command's usage on stdout and exit code 0.
var errHelp = errors.New("help requested")

// errInterruptedExit makes run return exitInterrupted; the command has
// already said what happened.
var errInterruptedExit = errors.New("interrupted")

// usageError is a bad command line: exit code 2 with the usage.
type usageError struct {
	msg  string
	full bool // print the full usage, not only the synopsis
}

func (u *usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// parseFlags parses args with the command's flags. The flag package's own
// message for a bad flag goes to stderr; the usage follows (see runContext).
// Positional arguments are an error.
func parseFlags(fs *flag.FlagSet, e *env, args []string) error {
	fs.SetOutput(e.stderr)
	fs.Usage = func() {} // runContext prints the usage
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return &usageError{full: true} // the flag package printed the error
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("unexpected argument %q (flags come as -name value)", fs.Arg(0)), full: true}
	}
	return checkFiniteFlags(fs)
}

// checkFiniteFlags rejects NaN and ±Inf in every number flag given, by
// name, before a command writes anything (the flag package accepts them).
func checkFiniteFlags(fs *flag.FlagSet) error {
	var bad error
	fs.Visit(func(f *flag.Flag) {
		g, ok := f.Value.(flag.Getter)
		if !ok || bad != nil {
			return
		}
		if v, ok := g.Get().(float64); ok && (math.IsNaN(v) || math.IsInf(v, 0)) {
			bad = usagef("-%s must be a finite number, got %s", f.Name, f.Value)
		}
	})
	return bad
}

// newFlagSet returns c's flag set with its flags defined.
func newFlagSet(c *command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	if c.flags != nil {
		c.flags(fs)
	}
	return fs
}

// flagsSet returns the names of the flags given on the command line.
func flagsSet(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

func mainUsage(w io.Writer) {
	cmds := commands()
	fmt.Fprint(w, `tsimcne: t-SimCNE maps of image collections (Böhm, Berens, Kobak, ICLR 2023)

Usage:
  tsimcne <command> [flags]
  tsimcne help <command>

Commands:
`)
	names := append([]string(nil), commandOrder...)
	for n := range cmds {
		if !contains(names, n) {
			names = append(names, n)
		}
	}
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].synopsis)
	}
	fmt.Fprint(w, `
Quick start:
  tsimcne download                       # CIFAR-10 (163 MB) into $TSIMCNE_DATA or the user cache
  tsimcne train -preset quick            # smoke test: about a minute on 2 CPU cores
  tsimcne train -preset cpu              # CIFAR-10 map on 10 000 images, about an hour on 2 cores
  tsimcne train -out runs/cifar10-cpu -resume   # continue after Ctrl-C
  tsimcne baseline -dataset cifar10      # kNN accuracy of raw pixels, for comparison

The data folder is -data, else $TSIMCNE_DATA, else gosimcne in the user cache folder.
Exit codes: 0 success, 1 error, 2 bad command line, 130 interrupted (checkpoint saved).
`)
}

func commandUsage(c *command, w io.Writer) {
	fmt.Fprintf(w, "usage: %s\n\n%s\n", c.usage, strings.TrimSpace(c.help))
	fs := newFlagSet(c)
	if hasFlags(fs) {
		fmt.Fprint(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	if c.examples != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(c.examples, "\n"))
	}
}

// flagsUsage is the short usage shown after a bad flag: the synopsis and
// the flags, without the description and examples.
func flagsUsage(c *command, w io.Writer) {
	fmt.Fprintf(w, "usage: %s\n", c.usage)
	fs := newFlagSet(c)
	if hasFlags(fs) {
		fmt.Fprint(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	fmt.Fprintf(w, "\nRun 'tsimcne help %s' for details and examples.\n", c.name)
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
