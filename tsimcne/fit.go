package tsimcne

import (
	stdctx "context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train"
	"github.com/gomlx/gomlx/ui/commandline"
	"github.com/gomlx/gomlx/ui/notebooks"
	"golang.org/x/term"

	"github.com/gosimcne/gosimcne/tsimcne/augment"
	"github.com/gosimcne/gosimcne/tsimcne/backend"
	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/model"
	"github.com/gosimcne/gosimcne/tsimcne/optim"
)

// ErrNonFiniteLoss is returned (wrapped, with the stage, epoch and step) by
// Fit when a training step gives a NaN or infinite loss. The weights in
// memory are then unusable; the last checkpoint on disk is the last good
// state (resume from it, e.g. with a lower learning rate).
var ErrNonFiniteLoss = errors.New("non-finite training loss")

// Fit trains the model on ds through the three stages, resuming from the
// position a checkpoint recorded. While it runs, the first SIGINT (Ctrl-C,
// or a notebook's interrupt) stops training after the current step and
// saves a checkpoint; Fit then returns an error wrapping ErrInterrupted. A
// second SIGINT gets Go's default handling (the program exits at once).
// Programs that handle signals themselves call FitContext.
func (m *Model) Fit(ds *data.Dataset) error {
	ctx, stop := interruptContext()
	defer stop()
	return m.FitContext(ctx, ds)
}

// interruptContext returns a context cancelled by the first SIGINT, after
// which SIGINT is no longer caught: a second Ctrl-C ends the program, as it
// would without Fit. stop releases the signal.
func interruptContext() (stdctx.Context, stdctx.CancelFunc) {
	ctx, stop := signal.NotifyContext(stdctx.Background(), os.Interrupt)
	go func() {
		<-ctx.Done()
		stop() // restores the default behaviour for the next SIGINT
	}()
	return ctx, stop
}

// progressMode resolves Config.Progress: ProgressAuto is a bar on a
// terminal or in a notebook, else lines. GoMLX's bar writes to os.Stdout
// only, so with a Config.Log other than os.Stdout the progress goes to Log
// as lines.
func (m *Model) progressMode() Progress {
	mode := m.cfg.Progress
	toStdout := m.log == io.Writer(os.Stdout)
	if mode == ProgressAuto {
		mode = ProgressLines
		if toStdout && (notebooks.IsNotebook() || term.IsTerminal(int(os.Stdout.Fd()))) {
			mode = ProgressBar
		}
	}
	if mode == ProgressBar && !toStdout {
		mode = ProgressLines
	}
	return mode
}

// FitContext is Fit stopped by ctx instead of SIGINT: when ctx is
// cancelled, training stops after the current step, a checkpoint is saved
// (if Config.CheckpointDir is set) and an error wrapping ErrInterrupted is
// returned.
func (m *Model) FitContext(ctx stdctx.Context, ds *data.Dataset) error {
	return m.fit(ctx, ds, 3)
}

// FitStage trains on ds up to the end of the given stage (1, 2 or 3),
// resuming from where training stands, so a notebook can look at the map
// after each stage: FitStage(ds, 1), Transform, FitStage(ds, 2), ... A
// stage already completed is not trained again. SIGINT stops it as in Fit.
func (m *Model) FitStage(ds *data.Dataset, stage int) error {
	if stage < 1 || stage > 3 {
		return fmt.Errorf("FitStage: stage must be 1, 2 or 3, got %d", stage)
	}
	ctx, stop := interruptContext()
	defer stop()
	return m.fit(ctx, ds, stage)
}

// fit trains up to the end of stage lastStage.
func (m *Model) fit(ctx stdctx.Context, ds *data.Dataset, lastStage int) error {
	if err := m.checkImages(ds, "Fit"); err != nil {
		return err
	}
	B := m.cfg.BatchSize
	if B > ds.N {
		return fmt.Errorf("Fit: batch size %d is larger than the data set %q (%d images); use a batch size of at most %d",
			B, ds.Name, ds.N, ds.N)
	}
	if n := m.stateValue(stateDataN, 0); n != 0 && n != ds.N {
		return fmt.Errorf("Fit: the checkpoint was trained on %d images, this data set %q has %d: "+
			"resume with the same data, or use a new checkpoint folder", n, ds.Name, ds.N)
	}
	m.setState(stateDataN, ds.N)
	augCfg := m.cfg.Augment
	augCfg.Seed = m.cfg.Seed
	aug, err := augment.New(augCfg)
	if err != nil {
		return fmt.Errorf("Fit: %w", err)
	}

	for pos := m.Position(); pos.Stage <= lastStage; pos = m.Position() {
		if m.cfg.Epochs[pos.Stage-1] == 0 || pos.Epoch >= m.cfg.Epochs[pos.Stage-1] {
			m.setPosition(Position{Stage: pos.Stage + 1})
			continue
		}
		if err := m.trainStage(ctx, ds, aug, pos); err != nil {
			return err
		}
		m.setPosition(Position{Stage: pos.Stage + 1})
	}
	return m.saveCheckpoint()
}

// stageRun is the training of one stage in progress: what the steps of the
// stage share, and the epoch being trained.
type stageRun struct {
	m        *Model
	ctx      stdctx.Context // cancelled: stop after the current step
	stage    int
	annealed bool // the annealed schedule's one stage
	outDim   int  // the head's width (the largest, when annealed)
	sched    optim.Schedule
	opt      *optim.Optimizer
	trainer  *train.Trainer
	stream   *viewStream
	feed     train.Dataset // stream, or stream sharded over Config.Devices
	loop     *train.Loop
	mode     Progress

	// The epoch being trained: its number, the steps done in it, and
	// their summed loss since epochStart (steps of this session only).
	epoch, step int
	epochLoss   float64
	epochSteps  int
	epochStart  time.Time
	// stopErr is the error of the stage's own stop (interruption,
	// non-finite loss), returned as it is.
	stopErr error
}

// trainStage trains one stage from pos to its end.
func (m *Model) trainStage(ctx stdctx.Context, ds *data.Dataset, aug *augment.Augmenter, pos Position) (err error) {
	s, err := m.newStageRun(ctx, ds, aug, pos)
	if err != nil {
		return err
	}
	defer s.stream.release()
	s.announce(pos)
	s.attachProgressBar()
	s.epochStart = time.Now()
	s.loop.OnStep("tsimcne", 0, s.onStep)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("Fit: stage %d: %v", s.stage, r)
		}
	}()
	return s.run(ds, pos)
}

// newStageRun sets up the stage of pos: its optimizer at pos's learning
// rate, its network and loss, the training loop and the stream of views.
func (m *Model) newStageRun(ctx stdctx.Context, ds *data.Dataset, aug *augment.Augmenter, pos Position) (*stageRun, error) {
	stage := pos.Stage
	s := &stageRun{m: m, ctx: ctx, stage: stage, annealed: m.cfg.Annealed() && stage == 1,
		sched: m.cfg.Schedules()[stage-1], epoch: pos.Epoch, step: pos.Batch, mode: m.progressMode()}
	var err error
	if s.opt, err = m.stageOptimizer(s.sched, pos); err != nil {
		return nil, err
	}
	mcfg := m.cfg.modelConfig(stage, m.inputSize)
	s.outDim = mcfg.OutDim
	modelFn := m.stageModel(mcfg, stage, s.annealed, pos.Epoch)
	lossFn, err := m.cfg.stageLoss(stage)
	if err != nil {
		return nil, fmt.Errorf("Fit: %w", err)
	}
	s.trainer = train.NewTrainer(m.backend, m.ctx, modelFn, lossFn, s.opt, nil, nil)
	s.stream = newViewStream(ds, aug, m.cfg, stage, pos)
	accelerator := !m.backend.HasSharedBuffers()
	if accelerator && m.cfg.Devices == 0 {
		// Sharded, the step copies each shard to its device instead.
		s.stream.device = m.backend
	}
	s.stream.prefetch = m.cfg.Prefetch.on(accelerator)
	s.feed = s.stream
	if m.cfg.Devices > 0 {
		mesh, err := m.deviceMesh(m.cfg.Devices)
		if err != nil {
			return nil, err
		}
		if s.feed, err = newShardedStream(s.stream, mesh); err != nil {
			return nil, err
		}
	}
	s.loop = train.NewLoop(s.trainer)
	return s, nil
}

// stageOptimizer returns the SGD optimizer of a stage with the learning
// rate of pos's epoch. A stage started afresh gets a fresh optimizer state,
// as the reference.
func (m *Model) stageOptimizer(sched optim.Schedule, pos Position) (*optim.Optimizer, error) {
	clip := m.cfg.ClipValue
	if clip < 0 {
		clip = 0
	}
	opt, err := optim.SGD().Momentum(m.cfg.sgdMomentum()).WeightDecay(m.cfg.sgdWeightDecay()).ClipByValue(clip).
		LearningRate(sched.LearningRate(pos.Epoch)).Done()
	if err != nil {
		return nil, fmt.Errorf("Fit: %w", err)
	}
	if err := opt.SetLearningRate(m.ctx, sched.LearningRate(pos.Epoch)); err != nil {
		return nil, fmt.Errorf("Fit: %w", err)
	}
	if pos.Epoch == 0 && pos.Batch == 0 {
		if err := opt.Reset(m.ctx); err != nil {
			return nil, fmt.Errorf("Fit: %w", err)
		}
	}
	return opt, nil
}

// stageModel records the head's width of a stage (for the annealed
// schedule, the width of epoch and the loss's mask), drops the compiled
// embedding graphs (the weights change) and returns the stage's model
// function: the network and, with Config.LearnDoF, the learned degrees of
// freedom.
func (m *Model) stageModel(mcfg model.Config, stage int, annealed bool, epoch int) train.ModelFn {
	var dimMask *context.Variable
	if annealed {
		dimMask = m.setAnnealedDim(epoch)
	} else {
		m.setState(stateHeadDim, mcfg.OutDim)
	}
	m.embedExec = map[int]*context.Exec{} // weights change: rebuild embedding graphs lazily
	return func(ctx *context.Context, _ any, inputs []*graph.Node) []*graph.Node {
		out, _ := model.Build(ctx, mcfg, inputs[0])
		if annealed {
			// The loss sees only the first AnnealedDim(epoch) outputs: the
			// others are multiplied by 0, which removes them from every
			// distance and their gradients. A mask variable instead of a
			// slice keeps one compiled graph for the whole stage.
			mask := graph.ExpandAxes(dimMask.ValueGraph(out.Graph()), 0)
			out = graph.Mul(out, mask)
		}
		if m.cfg.LearnDoF {
			return []*graph.Node{out, m.learnedDoF(ctx, out.Graph(), stage)}
		}
		return []*graph.Node{out}
	}
}

// announce prints what the stage trains, from pos.
func (s *stageRun) announce(pos Position) {
	m, c := s.m, s.m.cfg
	from := ""
	if pos.Epoch > 0 || pos.Batch > 0 {
		from = fmt.Sprintf(" (resuming at epoch %d, batch %d)", pos.Epoch+1, pos.Batch)
	}
	size := fmt.Sprintf("%s of %s of %d images", count(s.sched.Epochs, "epoch"), count(s.stream.batchesPerEpoch, "batch"), c.BatchSize)
	if s.annealed {
		m.printf("Annealed schedule: output width %d -> %d over %s, lr %.4g%s\n",
			c.PretrainDim, c.OutDim, size, s.sched.PeakLR, from)
	} else {
		m.printf("Stage %d/3 (%s): %d-D output, %s, lr %.4g%s\n",
			s.stage, stageNames[s.stage-1], s.outDim, size, s.sched.PeakLR, from)
	}
}

// count returns "1 epoch", "2 epochs", "1 batch", "3 batches".
func count(n int, noun string) string {
	plural := map[string]string{"batch": "batches"}[noun]
	if plural == "" {
		plural = noun + "s"
	}
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %s", n, plural)
}

// attachProgressBar shows GoMLX's progress bar in ProgressBar mode.
func (s *stageRun) attachProgressBar() {
	if s.mode != ProgressBar {
		return
	}
	commandline.AttachProgressBar(s.loop, func() (string, string) {
		return "Stage / epoch", fmt.Sprintf("%d / %d of %d", s.stage, s.stream.epoch, s.sched.Epochs)
	}, func() (string, string) {
		lr, _ := s.opt.LearningRate(s.m.ctx)
		return "Learning rate", fmt.Sprintf("%.4g", lr)
	})
}

// run trains the stage's remaining steps.
func (s *stageRun) run(ds *data.Dataset, pos Position) error {
	m := s.m
	if backend.IsXLA(m.backend) {
		// XLA compiles for a minute or more (ResNet-18 on an H100: 36 s per
		// batch shape), which looks like a hang without a word.
		again := ""
		if !m.cfg.DropLast && ds.N%m.cfg.BatchSize != 0 {
			again = ", and again for each epoch's last, smaller batch"
		}
		m.printf("The first step compiles the training graph (XLA: a minute or more for large networks%s).\n", again)
	}
	steps := (s.sched.Epochs-pos.Epoch)*s.stream.batchesPerEpoch - pos.Batch
	if _, err := s.loop.RunSteps(s.feed, steps); err != nil {
		if s.stopErr != nil {
			// Our own stop (interruption, non-finite loss): its message says
			// it all, without the training loop's wrapping.
			return s.stopErr
		}
		return fmt.Errorf("Fit: stage %d: %w", s.stage, err)
	}
	return nil
}

// onStep is the training loop's callback after each step: it checks the
// loss, adds it to the epoch's, ends the epoch after its last batch,
// records the position and stops when ctx is cancelled.
func (s *stageRun) onStep(_ *train.Loop, metrics []*tensors.Tensor) error {
	batchLoss := shapes.ConvertTo[float64](metrics[0].Value())
	if math.IsNaN(batchLoss) || math.IsInf(batchLoss, 0) {
		return s.nonFinite(batchLoss)
	}
	s.epochLoss += batchLoss
	s.epochSteps++
	s.step++
	next := Position{Stage: s.stage, Epoch: s.epoch, Batch: s.step}
	if s.step == s.stream.batchesPerEpoch {
		var err error
		if next, err = s.endEpoch(); err != nil {
			return err
		}
	} else {
		s.m.setPosition(next)
	}
	if s.m.afterStep != nil {
		s.m.afterStep(next)
	}
	if s.ctx.Err() != nil {
		return s.interrupt(next)
	}
	return nil
}

// nonFinite stops training on a NaN or infinite loss.
func (s *stageRun) nonFinite(loss float64) error {
	where := "no checkpoint was saved"
	if s.m.ckpt != nil {
		where = "the last good checkpoint in " + s.m.cfg.CheckpointDir + " is kept"
	}
	s.stopErr = fmt.Errorf("%w: loss %v at stage %d, epoch %d, step %d of the epoch (global step %d); %s",
		ErrNonFiniteLoss, loss, s.stage, s.epoch, s.step, s.trainer.GlobalStep(), where)
	return s.stopErr
}

// endEpoch ends the epoch whose last batch was just trained: its statistics
// (a line in ProgressLines mode), the next epoch's learning rate (and
// annealed width), the position, a checkpoint and the history. It returns
// the new position.
func (s *stageRun) endEpoch() (Position, error) {
	m := s.m
	lr, _ := s.opt.LearningRate(m.ctx)
	st := EpochStats{Stage: s.stage, Epoch: s.epoch, Loss: s.epochLoss / float64(s.epochSteps),
		LearningRate: lr, Seconds: time.Since(s.epochStart).Seconds(), Steps: s.epochSteps,
		DataSeconds: s.stream.takeWait().Seconds()}
	if s.annealed {
		st.Dim = m.cfg.AnnealedDim(s.epoch)
	}
	if m.cfg.LearnDoF {
		st.DoF = m.DoF()
	}
	if s.mode == ProgressLines {
		s.printEpoch(st)
	}
	s.epoch++
	s.step = 0
	next := Position{Stage: s.stage, Epoch: s.epoch}
	if s.epoch < s.sched.Epochs {
		if err := s.opt.SetLearningRate(m.ctx, s.sched.LearningRate(s.epoch)); err != nil {
			return next, err
		}
		if s.annealed {
			m.setAnnealedDim(s.epoch)
		}
	}
	m.setPosition(next)
	saveStart := time.Now()
	if err := m.saveCheckpoint(); err != nil {
		return next, err
	}
	st.CheckpointSeconds = time.Since(saveStart).Seconds()
	m.history = append(m.history, st)
	if err := m.saveHistory(); err != nil {
		return next, err
	}
	if m.cfg.OnEpoch != nil {
		if err := m.cfg.OnEpoch(m, st); err != nil {
			return next, fmt.Errorf("Config.OnEpoch after %s: %w", Position{Stage: s.stage, Epoch: s.epoch - 1}, err)
		}
	}
	s.epochLoss, s.epochSteps, s.epochStart = 0, 0, time.Now()
	return next, nil
}

// printEpoch prints the line of an epoch (ProgressLines).
func (s *stageRun) printEpoch(st EpochStats) {
	dim := ""
	if s.annealed {
		dim = fmt.Sprintf(", %d-D", st.Dim)
	}
	s.m.printf("stage %d epoch %d/%d: loss %.4f%s, lr %.4g, %.1fs (waiting for data %.1fs)\n",
		s.stage, st.Epoch+1, s.sched.Epochs, st.Loss, dim, st.LearningRate, st.Seconds, st.DataSeconds)
}

// interrupt stops training after the step that reached next: a checkpoint
// is saved (the epoch-end one already was).
func (s *stageRun) interrupt(next Position) error {
	if s.step != 0 {
		if err := s.m.saveCheckpoint(); err != nil {
			return err
		}
	}
	saved := "no checkpoint folder was set, so nothing was saved"
	if s.m.ckpt != nil {
		saved = "checkpoint saved in " + s.m.cfg.CheckpointDir + "; run again to resume"
	}
	s.stopErr = fmt.Errorf("%w at %s: %s", ErrInterrupted, next, saved)
	return s.stopErr
}

// Scope and name of the learned log-degrees of freedom (Config.LearnDoF).
const (
	dofScope = "/loss"
	dofName  = "log_dof"
)

// learnedDoF returns the kernel's degrees of freedom ν = exp(θ) for the
// trained scalar θ = log ν, creating θ at the stage's kernel's ν the first
// time.
func (m *Model) learnedDoF(ctx *context.Context, g *graph.Graph, stage int) *graph.Node {
	v := m.ctx.InspectVariable(dofScope, dofName)
	if v == nil {
		nu, err := initialDoF(m.cfg.stageKernel(stage))
		if err != nil {
			panic(err)
		}
		v = ctx.InAbsPath(dofScope).Checked(false).VariableWithValue(dofName, float32(math.Log(nu)))
	}
	v.Trainable = true
	return graph.Exp(v.ValueGraph(g))
}

// DoF returns the learned degrees of freedom of the kernel (Config.LearnDoF),
// or 0 when they are not learned (or not yet created).
func (m *Model) DoF() float64 {
	v := m.ctx.InspectVariable(dofScope, dofName)
	if v == nil {
		return 0
	}
	t, err := v.Value()
	if err != nil {
		return 0
	}
	return math.Exp(float64(tensors.ToScalar[float32](t)))
}

// setAnnealedDim records the annealed output width of epoch e
// (Config.AnnealedDim) as the head's width and sets the loss's mask to it:
// 1 for the first AnnealedDim(e) outputs, 0 for the others. It returns the
// mask variable.
func (m *Model) setAnnealedDim(e int) *context.Variable {
	c := m.cfg.withDefaults()
	d := c.AnnealedDim(e)
	mask := make([]float32, c.PretrainDim)
	for i := range d {
		mask[i] = 1
	}
	v := m.ctx.InspectVariable(stateScope, stateDimMask)
	if v == nil {
		v = m.ctx.InAbsPath(stateScope).Checked(false).VariableWithValue(stateDimMask, mask)
		v.Trainable = false
	} else {
		_ = v.SetValue(tensors.FromValue(mask))
	}
	m.setState(stateHeadDim, d)
	return v
}

func (m *Model) printf(format string, args ...any) {
	if m.cfg.Progress == ProgressOff {
		return
	}
	fmt.Fprintf(m.log, format, args...)
}

// viewStream is the train.Dataset of one stage: batches of two augmented
// views of each image, [2B, H, W, 3] (rows 0..B-1 view 1, B..2B-1 view 2).
// The order of the images in epoch e and the views of batch b are functions
// of (Seed, stage, e, b) only, so a resumed run sees the same batches as an
// uninterrupted one.
//
// With prefetch on, Yield starts making the next batch's views in a
// goroutine before it returns, so that they are made while the training
// step runs (on a GPU the step and the augmentation then overlap instead of
// taking turns). The two batches in flight use two tensors per batch size.
type viewStream struct {
	ds              *data.Dataset
	aug             *augment.Augmenter
	seed            uint64
	stage           int
	batchSize       int
	batchesPerEpoch int
	dropLast        bool
	epoch, batch    int // next batch to yield
	perm            []int
	permEpoch       int
	// inputs holds two tensors per batch size (the last batch of an epoch
	// may be smaller), refilled in turn: the training loop runs one step at
	// a time, so the tensor yielded before the last one is free again, and
	// reusing the tensors spares the Go heap 13 MB of garbage per step at
	// B=256 (see IsOwnershipTransferred).
	inputs map[int]*[2]*tensors.Tensor
	slot   int // which of the two tensors the next batch is made in

	// pages releases the pages of a mapped dataset behind the batches
	// (data.PageReleaser): used by one fill at a time.
	pages *data.PageReleaser

	prefetch bool
	// device, if set, is the backend the views are copied to as soon as
	// they are made (in the background with prefetch): set for backends
	// without shared host buffers (XLA on a GPU), where the copy would
	// otherwise wait for the step.
	device  backends.Backend
	pending *viewBatch // the batch being made in the background, if any
	// wait is the time Yield spent making views or waiting for them since
	// the last takeWait: the time the training loop waited for data.
	wait time.Duration
}

// viewBatch is one batch of views being made, or made.
type viewBatch struct {
	epoch, batch int
	t            *tensors.Tensor
	err          error
	done         chan struct{}
}

func newViewStream(ds *data.Dataset, aug *augment.Augmenter, cfg Config, stage int, pos Position) *viewStream {
	nb := ds.N / cfg.BatchSize
	if rest := ds.N % cfg.BatchSize; !cfg.DropLast && rest != 0 && (cfg.Devices == 0 || 2*rest%cfg.Devices == 0) {
		nb++
	}
	return &viewStream{ds: ds, aug: aug, seed: cfg.Seed, stage: stage, batchSize: cfg.BatchSize,
		batchesPerEpoch: nb, dropLast: cfg.DropLast, epoch: pos.Epoch, batch: pos.Batch, permEpoch: -1,
		prefetch: cfg.Prefetch.on(false), pages: data.NewPageReleaser(ds, false)}
}

// Name implements train.Dataset.
func (s *viewStream) Name() string { return fmt.Sprintf("%s/stage%d", s.ds.Name, s.stage) }

// Reset implements train.Dataset; the stream is endless (the loop runs a
// set number of steps).
func (s *viewStream) Reset() {}

// IsOwnershipTransferred implements train.DatasetCustomOwnership: the
// stream keeps the tensors it yields and refills them later, so the loop
// must not finalize them.
func (s *viewStream) IsOwnershipTransferred() bool { return false }

// release waits for a batch being made and frees the stream's tensors.
func (s *viewStream) release() {
	if p := s.pending; p != nil {
		<-p.done
		s.pending = nil
	}
	for n, ts := range s.inputs {
		for _, t := range ts {
			if t != nil {
				_ = t.FinalizeAll()
			}
		}
		delete(s.inputs, n)
	}
}

// takeWait returns the time the loop waited for views since the last call.
func (s *viewStream) takeWait() time.Duration {
	w := s.wait
	s.wait = 0
	return w
}

// permutation returns the image order of epoch e.
func (s *viewStream) permutation(e int) []int {
	if s.permEpoch != e {
		r := rand.New(rand.NewPCG(s.seed, uint64(s.stage)<<32|uint64(e)))
		s.perm = r.Perm(s.ds.N)
		s.permEpoch = e
	}
	return s.perm
}

// start begins making the views of batch b of epoch e in the next free
// tensor; in the background with prefetch on, else before it returns.
func (s *viewStream) start(e, b int) *viewBatch {
	perm := s.permutation(e)
	lo := b * s.batchSize
	idx := perm[lo:min(lo+s.batchSize, len(perm))]
	n := len(idx)
	if s.inputs == nil {
		s.inputs = map[int]*[2]*tensors.Tensor{}
	}
	ts := s.inputs[n]
	if ts == nil {
		ts = new([2]*tensors.Tensor)
		s.inputs[n] = ts
	}
	slot := s.slot
	if !s.prefetch {
		slot = 0 // one batch at a time: one tensor per batch size is enough
	}
	s.slot ^= 1
	if ts[slot] == nil {
		h, w := s.aug.OutputShape(s.ds)
		ts[slot] = tensors.FromShape(shapes.Make(dtypes.Float32, 2*n, h, w, 3))
	}
	vb := &viewBatch{epoch: e, batch: b, t: ts[slot], done: make(chan struct{})}
	fill := func() {
		defer close(vb.done)
		vl := s.aug.ViewLen(s.ds)
		batchSeed := uint64(s.stage)<<48 | uint64(e)<<24 | uint64(b)
		var augErr error
		// MutableFlatData also drops the backend's copy of an earlier batch.
		if err := tensors.MutableFlatData(vb.t, func(views []float32) {
			augErr = s.aug.ViewsInto(s.ds, idx, batchSeed, views[:n*vl], views[n*vl:])
		}); err != nil {
			vb.err = fmt.Errorf("input tensor of batch %d of epoch %d: %w", b, e, err)
		} else if augErr != nil {
			vb.err = fmt.Errorf("making views of batch %d of epoch %d: %w", b, e, augErr)
		} else if err := s.pages.Read(n, 0); err != nil {
			vb.err = err
		} else if s.device != nil {
			// As the step's executable would (shared where the backend can).
			if err := vb.t.MaterializeOnDevice(s.device, true, 0); err != nil {
				vb.err = fmt.Errorf("copying the views of batch %d of epoch %d to the device: %w", b, e, err)
			}
		}
	}
	if s.prefetch {
		go fill()
	} else {
		fill()
	}
	return vb
}

// Yield implements train.Dataset.
func (s *viewStream) Yield() (spec any, inputs, labels []*tensors.Tensor, err error) {
	t0 := time.Now()
	vb := s.pending
	s.pending = nil
	if vb == nil || vb.epoch != s.epoch || vb.batch != s.batch {
		if vb != nil {
			<-vb.done
		}
		vb = s.start(s.epoch, s.batch)
	}
	<-vb.done
	if vb.err != nil {
		s.wait += time.Since(t0)
		return nil, nil, nil, vb.err
	}
	s.batch++
	if s.batch == s.batchesPerEpoch {
		s.epoch++
		s.batch = 0
	}
	if s.prefetch {
		s.pending = s.start(s.epoch, s.batch)
	}
	s.wait += time.Since(t0)
	return nil, []*tensors.Tensor{vb.t}, nil, nil
}
