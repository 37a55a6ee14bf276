package tsimcne

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/distributed"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/gosimcne/gosimcne/tsimcne/backend"
)

// Data-parallel training (Config.Devices) uses GoMLX's distributed
// execution as it is: a one-axis DeviceMesh named BatchAxis over the
// devices, the views of each step sharded along their batch axis, and the
// training step compiled with AutoSharding, so that XLA's SPMD partitioner
// splits the one-device program. The program is the same as on one device:
// the loss and batch norm see the global batch, and XLA adds the
// cross-device collectives they need. No parameter server or gradient
// averaging is written here.

// BatchAxis is the name of the device mesh's axis that data-parallel
// training shards the views along.
const BatchAxis = "batch"

// CheckDevices checks that the backend in effect (backend.Default) can
// train data-parallel over n devices (Config.Devices; 0 is always
// possible), so that a program can refuse before loading data.
func CheckDevices(n int) error {
	if n <= 0 {
		return nil
	}
	b, err := backend.Default()
	if err != nil {
		return err
	}
	return checkDevices(b, n)
}

// checkDevices checks that backend b can run Config.Devices devices.
func checkDevices(b backends.Backend, devices int) error {
	if devices <= 0 {
		return nil
	}
	if !backend.IsXLA(b) {
		return fmt.Errorf("tsimcne: data-parallel training over %s: the %s backend has no sharded execution; "+
			"use XLA (build with -tags xla, GOMLX_BACKEND=xla:cuda), or leave Devices at 0", count(devices, "device"), b.Name())
	}
	if n := b.NumDevices(); devices > n {
		return fmt.Errorf("tsimcne: data-parallel training over %s, but the %s backend has %d", count(devices, "device"), b.Name(), n)
	}
	return nil
}

// shardedStream is a viewStream whose batches are sharded over a device
// mesh: GoMLX's training loop runs it through Trainer.DistributedTrainStep.
type shardedStream struct {
	*viewStream
	spec    *distributed.ShardingSpec
	devices []backends.DeviceNum
}

// deviceMesh returns the model's device mesh over its first n devices,
// made on first use.
func (m *Model) deviceMesh(n int) (*distributed.DeviceMesh, error) {
	if m.mesh == nil {
		mesh, err := distributed.NewDeviceMesh([]int{n}, []string{BatchAxis})
		if err != nil {
			return nil, fmt.Errorf("Fit: device mesh of %d devices: %w", n, err)
		}
		m.mesh = mesh
	}
	if m.mesh.NumDevices() != n {
		return nil, fmt.Errorf("Fit: the model trains over %d devices, not %d", m.mesh.NumDevices(), n)
	}
	return m.mesh, nil
}

// newShardedStream shards s's batches over mesh's devices.
func newShardedStream(s *viewStream, mesh *distributed.DeviceMesh) (*shardedStream, error) {
	n := mesh.NumDevices()
	spec, err := distributed.BuildSpec(mesh).S(BatchAxis).Done()
	if err != nil {
		return nil, fmt.Errorf("Fit: sharding spec: %w", err)
	}
	devices := make([]backends.DeviceNum, n)
	for i := range devices {
		devices[i] = backends.DeviceNum(i)
	}
	return &shardedStream{viewStream: s, spec: spec, devices: devices}, nil
}

// Strategy implements train.DistributedDataset.
func (s *shardedStream) Strategy() distributed.Strategy { return distributed.AutoSharding }

// DeviceAssignment implements train.DistributedDataset.
func (s *shardedStream) DeviceAssignment() []backends.DeviceNum { return s.devices }

// IsOwnershipTransferred implements train.DatasetCustomOwnership: the
// shards are made for each step, and the loop frees them after it.
func (s *shardedStream) IsOwnershipTransferred() bool { return true }

// DistributedYield implements train.DistributedDataset: the batch's views
// (first views of all images, then second views) split along the batch
// axis into one contiguous block per device.
func (s *shardedStream) DistributedYield() (spec any, inputs, labels []*distributed.Tensor, err error) {
	_, in, _, err := s.viewStream.Yield()
	if err != nil {
		return nil, nil, nil, err
	}
	dt, err := distributed.ShardTensor(s.spec, in[0])
	if err != nil {
		return nil, nil, nil, fmt.Errorf("sharding the views over %d devices: %w", len(s.devices), err)
	}
	return nil, []*distributed.Tensor{dt}, nil, nil
}

// Yield implements train.Dataset; the loop uses DistributedYield.
func (s *shardedStream) Yield() (spec any, inputs, labels []*tensors.Tensor, err error) {
	return nil, nil, nil, fmt.Errorf("Fit: a sharded stream yields through DistributedYield")
}
