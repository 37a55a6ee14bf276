// Package stepjson holds the JSON line that the training-step benchmarks
// print (bench/gostep, and bench/torch/step.py with the same field names)
// and bench/compare reads.
package stepjson

// Result is the JSON line printed by bench/gostep; bench/torch/step.py
// prints the same field names, and bench/compare reads both.
type Result struct {
	Impl     string `json:"impl"`
	Backbone string `json:"backbone"`
	// Batch is B, the number of views per step.
	Batch     int     `json:"batch"`
	ImageSize int     `json:"image_size"`
	HiddenDim int     `json:"hidden_dim"`
	OutDim    int     `json:"out_dim"`
	Threads   int     `json:"threads"`
	Warmup    int     `json:"warmup"`
	Steps     int     `json:"steps"`
	Seconds   float64 `json:"seconds"`
	// ViewsPerSecond is Batch*Steps/Seconds over the timed steps.
	ViewsPerSecond float64 `json:"views_per_s"`
	// StepSeconds are the durations of the timed steps.
	StepSeconds []float64 `json:"step_s"`
	// WarmupSeconds are the durations of the warm-up steps (the first
	// includes building and compiling the graph).
	WarmupSeconds []float64 `json:"warmup_s"`
	// PeakRSSMiB is getrusage's ru_maxrss at the end; StartRSSMiB is the
	// same before the model was built.
	PeakRSSMiB  float64 `json:"peak_rss_mib"`
	StartRSSMiB float64 `json:"start_rss_mib"`
	// Parameter counts (trainable variables): backbone, and with the head.
	ParamsBackbone int `json:"params_backbone"`
	ParamsTotal    int `json:"params_total"`
	// FwdGFLOPPerView counts the multiply-adds (x2) of the matrix products
	// (DotGeneral nodes) in the forward graph, per view; TrainGFLOPPerView
	// those of forward plus gradients.
	FwdGFLOPPerView   float64 `json:"fwd_gflop_per_view"`
	TrainGFLOPPerView float64 `json:"train_gflop_per_view,omitempty"`
	LossFirst         float64 `json:"loss_first"`
	LossLast          float64 `json:"loss_last"`
	LoadAvgStart      string  `json:"loadavg_start"`
	LoadAvgEnd        string  `json:"loadavg_end"`
	// FwdSeconds are the durations of forward passes alone (training mode:
	// batch statistics; network and loss, no gradients), timed after the
	// steps: the backward pass and update take StepSeconds minus these.
	FwdSeconds []float64 `json:"fwd_s,omitempty"`
	// Versions and settings.
	Runtime map[string]string `json:"runtime"`
}
