package runs

import (
	"errors"
	"fmt"
)

// DataProblem says what is wrong with a data set's files (DataError).
type DataProblem int

// The problems a DataError reports.
const (
	// DataMissing: the files are not in the data folder.
	DataMissing DataProblem = iota + 1
	// DataDownloadFailed: the data set's folder was not there and the
	// official archive could not be downloaded.
	DataDownloadFailed
	// DataDamaged: a file is there but cannot be read as the data set.
	DataDamaged
)

// DataError is the error of Data.Load and Data.LoadSplit when the files of
// CIFAR-10 or CIFAR-100 are missing, cannot be downloaded or are damaged.
// errors.As finds it, so that a program can tell its user how to get them
// (the tsimcne command names its download command and flags).
type DataError struct {
	// Dataset is CIFAR10 or CIFAR100.
	Dataset string
	// Folder is the folder that should hold the files.
	Folder string
	// Problem says what is wrong.
	Problem DataProblem
	// Err is the error met.
	Err error
}

// Error returns Err's message.
func (e *DataError) Error() string { return e.Err.Error() }

// Unwrap returns Err.
func (e *DataError) Unwrap() error { return e.Err }

// HoldoutError is the error of HoldoutSize (and so of Data.Load in holdout
// mode) when the part held out for the kNN evaluation would leave no query
// or no reference.
type HoldoutError struct {
	// Given is the number asked for; 0 means the default (DefaultHoldout),
	// which is 0 for N < 6.
	Given int
	// N is the number of images or points, What names them.
	N    int
	What string
}

// Error says why the number cannot be held out.
func (e *HoldoutError) Error() string {
	if e.Given == 0 {
		return fmt.Sprintf("too few %s (%d) to hold out a part for the kNN evaluation (the default, N/6, is 0)", e.What, e.N)
	}
	return fmt.Sprintf("cannot hold out %d of %d %s: it must be between 1 and %d", e.Given, e.N, e.What, e.N-1)
}

// ErrNoTestSplit is wrapped by the error of Data.Load in test mode
// (EvalTest) for an image folder without train/ and test/ sub-folders;
// holdout mode (EvalHoldout) evaluates such a folder.
var ErrNoTestSplit = errors.New("evaluation mode test needs a test split")
