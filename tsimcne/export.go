package tsimcne

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/dtypes/bfloat16"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/x448/float16"

	"github.com/gosimcne/gosimcne/tsimcne/model"
)

// The exported model format (Model.Export, read by Load and LoadExport).
// A checkpoint holds everything needed to resume training (weights,
// momentum, optimizer and trainer state, in float32: 2-3x the weights); an
// export holds what embedding needs, in 16-bit floats by default, in one
// file:
//
//	line 1     "gosimcne-model 1\n" (format name and version)
//	8 bytes    header length H, little-endian uint64
//	H bytes    JSON header: ExportHeader
//	the rest   the variables' values, in the header's order, each
//	           little-endian in its stored dtype, back to back
//
// Float variables (weights, batch-norm statistics) are stored in the
// export's dtype (float16, bfloat16 or float32) and read back as float32;
// integer state (head width, image size, position) as int64. The header
// carries the Config and a CRC-32 (IEEE) of the data, checked on load.
const (
	exportMagic   = "gosimcne-model"
	exportVersion = 1
)

// ExportHeader is the JSON header of an exported model file.
type ExportHeader struct {
	// Format is "gosimcne-model" and Version the format's version (1).
	Format  string `json:"format"`
	Version int    `json:"version"`
	// Config is the model's configuration (training fields included, so
	// that a user can see how it was trained).
	Config Config `json:"config"`
	// DType is the storage type of the float variables: "float16",
	// "bfloat16" or "float32".
	DType string `json:"dtype"`
	// Variables lists the stored variables in data order.
	Variables []ExportVariable `json:"variables"`
	// DataBytes and CRC32 are the data section's length and checksum.
	DataBytes int64  `json:"data_bytes"`
	CRC32     uint32 `json:"crc32"`
}

// ExportVariable describes one stored variable.
type ExportVariable struct {
	// Scope and Name locate the variable in the model's GoMLX context,
	// e.g. "/backbone/conv1" and "weights".
	Scope string `json:"scope"`
	Name  string `json:"name"`
	// Shape is the variable's dimensions ([] for a scalar).
	Shape []int `json:"shape"`
	// DType is how the values are stored ("float16", "bfloat16",
	// "float32" or "int64"); floats are read back as float32.
	DType string `json:"dtype"`
}

// exportScopes are the context scopes an export keeps: the network and the
// state that says which head the map comes from. Optimizer momentum,
// trainer counters, metrics and the random generator are left out.
var exportScopes = []string{"/" + model.BackboneScope + "/", "/" + model.HeadScope + "/", stateScope + "/"}

func exported(scope string) bool {
	scope += "/"
	for _, s := range exportScopes {
		if strings.HasPrefix(scope, s) {
			return true
		}
	}
	return false
}

// Export writes the model's weights (what Transform needs: backbone, head,
// batch-norm statistics and the head's state) to one file at path, with
// float variables stored as dtype: dtypes.Float16 (the default when dtype
// is dtypes.InvalidDType), dtypes.BFloat16 or dtypes.Float32. The file is
// about a third of a float32 checkpoint at float16; Load reads it (the
// embedding of a float16 export differs from the float32 model's by the
// rounding of the weights, about 1e-3 relative). See ExportHeader for the
// format.
func (m *Model) Export(path string, dtype dtypes.DType) error {
	if dtype == dtypes.InvalidDType {
		dtype = dtypes.Float16
	}
	if dtype != dtypes.Float16 && dtype != dtypes.BFloat16 && dtype != dtypes.Float32 {
		return fmt.Errorf("Export: dtype must be float16, bfloat16 or float32, got %s", dtype)
	}
	// The variables in the context, and those of a loaded checkpoint that
	// no graph has asked for yet (GoMLX's checkpoint handler hands each
	// value to the context on first use).
	type variable struct {
		scope, name string
		value       *tensors.Tensor
	}
	var vars []variable
	for v := range m.ctx.IterVariables() {
		if exported(v.Scope()) {
			t, err := v.Value()
			if err != nil {
				return fmt.Errorf("Export: variable %s: %w", v.ScopeAndName(), err)
			}
			vars = append(vars, variable{v.Scope(), v.Name(), t})
		}
	}
	if m.ckpt != nil {
		for param, t := range m.ckpt.LoadedVariables() {
			scope, name := context.VariableScopeAndNameFromParameterName(param)
			if exported(scope) {
				vars = append(vars, variable{scope, name, t})
			}
		}
	}
	sort.Slice(vars, func(i, j int) bool {
		return context.JoinScope(vars[i].scope, vars[i].name) < context.JoinScope(vars[j].scope, vars[j].name)
	})

	cfg := m.cfg
	cfg.CheckpointDir = ""
	h := ExportHeader{Format: exportMagic, Version: exportVersion, Config: cfg, DType: strings.ToLower(dtype.String())}
	var data bytes.Buffer
	for _, v := range vars {
		t := v.value
		ev := ExportVariable{Scope: v.scope, Name: v.name, Shape: append([]int{}, t.Shape().Dimensions...)}
		switch t.DType() {
		case dtypes.Float32:
			ev.DType = h.DType
			if err := writeFloats(&data, tensors.MustCopyFlatData[float32](t), dtype); err != nil {
				return err
			}
		case dtypes.Int64:
			ev.DType = "int64"
			_ = binary.Write(&data, binary.LittleEndian, tensors.MustCopyFlatData[int64](t))
		default:
			return fmt.Errorf("Export: variable %s/%s has dtype %s; only float32 and int64 variables are exported", v.scope, v.name, t.DType())
		}
		h.Variables = append(h.Variables, ev)
	}
	h.DataBytes = int64(data.Len())
	h.CRC32 = crc32.ChecksumIEEE(data.Bytes())
	header, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("Export: %w", err)
	}

	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("Export: %w", err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "%s %d\n", exportMagic, exportVersion)
	_ = binary.Write(w, binary.LittleEndian, uint64(len(header)))
	_, _ = w.Write(header)
	_, _ = w.Write(data.Bytes())
	err = errors.Join(w.Flush(), f.Close())
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("Export: writing %s: %w", path, err)
	}
	return nil
}

// writeFloats appends values in the storage dtype.
func writeFloats(w io.Writer, values []float32, dtype dtypes.DType) error {
	switch dtype {
	case dtypes.Float16:
		out := make([]uint16, len(values))
		for i, x := range values {
			if math.Abs(float64(x)) > 65504 {
				return fmt.Errorf("Export: value %g does not fit in float16; export as bfloat16 or float32", x)
			}
			out[i] = float16.Fromfloat32(x).Bits()
		}
		return binary.Write(w, binary.LittleEndian, out)
	case dtypes.BFloat16:
		out := make([]uint16, len(values))
		for i, x := range values {
			out[i] = bfloat16.FromFloat32(x).Bits()
		}
		return binary.Write(w, binary.LittleEndian, out)
	default:
		return binary.Write(w, binary.LittleEndian, values)
	}
}

// IsExport reports whether the file at path starts like an exported model.
func IsExport(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, len(exportMagic)+1)
	_, err = io.ReadFull(f, buf)
	return err == nil && string(buf) == exportMagic+" "
}

// ReadExportHeader reads the header of an exported model file.
func ReadExportHeader(path string) (*ExportHeader, error) {
	h, _, err := readExport(path, false)
	return h, err
}

// exportDTypeBytes are the bytes per value of the dtypes a model file
// holds.
var exportDTypeBytes = map[string]int{"int64": 8, "float32": 4, "float16": 2, "bfloat16": 2}

// checkExportVariables checks that the header's variables are well formed
// (an absolute scope, a name, a known dtype, dimensions >= 0) and fit in
// the dataBytes of the data section, before anything is allocated for them.
func checkExportVariables(h *ExportHeader, dataBytes int) error {
	total := 0
	for i, ev := range h.Variables {
		size, ok := exportDTypeBytes[ev.DType]
		switch {
		case !strings.HasPrefix(ev.Scope, "/") || ev.Name == "":
			return fmt.Errorf("variable %d has scope %q and name %q", i, ev.Scope, ev.Name)
		case !ok:
			return fmt.Errorf("variable %s/%s has unknown dtype %q", ev.Scope, ev.Name, ev.DType)
		}
		for _, d := range ev.Shape {
			if d < 0 || (d > 0 && size > dataBytes/d) {
				return fmt.Errorf("variable %s/%s has shape %v: more than the file holds", ev.Scope, ev.Name, ev.Shape)
			}
			size *= d
		}
		if total += size; total > dataBytes {
			return fmt.Errorf("the variables need more than the %d bytes of data", dataBytes)
		}
	}
	return nil
}

// LoadExport returns the model exported to path by Model.Export, ready for
// Transform (its weights in float32). opts may change settings that do not
// affect the network (Progress, Log, EmbedBatchSize). Load calls it for a
// file path.
func LoadExport(path string, opts ...func(*Config)) (*Model, error) {
	h, data, err := readExport(path, true)
	if err != nil {
		return nil, err
	}
	if err := checkExportVariables(h, len(data)); err != nil {
		return nil, fmt.Errorf("tsimcne.LoadExport(%q): %w: damaged file", path, err)
	}
	cfg := h.Config
	cfg.CheckpointDir = ""
	for _, o := range opts {
		o(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		return nil, fmt.Errorf("tsimcne.LoadExport(%q): %w", path, err)
	}
	r := bytes.NewReader(data)
	for _, ev := range h.Variables {
		n := 1
		for _, d := range ev.Shape {
			n *= d
		}
		var t *tensors.Tensor
		switch ev.DType {
		case "int64":
			vals := make([]int64, n)
			err = binary.Read(r, binary.LittleEndian, vals)
			t = tensors.FromFlatDataAndDimensions(vals, ev.Shape...)
		case "float32":
			vals := make([]float32, n)
			err = binary.Read(r, binary.LittleEndian, vals)
			t = tensors.FromFlatDataAndDimensions(vals, ev.Shape...)
		case "float16", "bfloat16":
			bits := make([]uint16, n)
			err = binary.Read(r, binary.LittleEndian, bits)
			vals := make([]float32, n)
			for i, b := range bits {
				if ev.DType == "float16" {
					vals[i] = float16.Frombits(b).Float32()
				} else {
					vals[i] = bfloat16.FromBits(b).Float32()
				}
			}
			t = tensors.FromFlatDataAndDimensions(vals, ev.Shape...)
		default:
			return nil, fmt.Errorf("tsimcne.LoadExport(%q): variable %s/%s has unknown dtype %q", path, ev.Scope, ev.Name, ev.DType)
		}
		if err != nil {
			return nil, fmt.Errorf("tsimcne.LoadExport(%q): variable %s/%s: %w", path, ev.Scope, ev.Name, err)
		}
		v := m.ctx.InAbsPath(ev.Scope).Checked(false).VariableWithValue(ev.Name, t)
		if ev.Scope == stateScope {
			v.Trainable = false
		}
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("tsimcne.LoadExport(%q): %d bytes of data left after the variables: damaged file", path, r.Len())
	}
	if err := m.checkState(); err != nil {
		return nil, fmt.Errorf("tsimcne.LoadExport(%q): %w", path, err)
	}
	if m.inputSize = m.stateValue(stateInputSize, 0); m.inputSize == 0 {
		return nil, fmt.Errorf("tsimcne.LoadExport(%q): the file has no image size", path)
	}
	return m, nil
}

// readExport reads and checks an export's header and, with withData, its
// data section.
func readExport(path string, withData bool) (*ExportHeader, []byte, error) {
	fail := func(format string, args ...any) (*ExportHeader, []byte, error) {
		return nil, nil, fmt.Errorf("tsimcne: reading the exported model %s: %s", path, fmt.Sprintf(format, args...))
	}
	f, err := os.Open(path)
	if err != nil {
		return fail("%v", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	line, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, exportMagic+" ") {
		return fail("not a gosimcne model file (it should start with %q)", exportMagic)
	}
	if v := strings.TrimSpace(strings.TrimPrefix(line, exportMagic+" ")); v != fmt.Sprint(exportVersion) {
		return fail("format version %s, this gosimcne reads version %d", v, exportVersion)
	}
	var n uint64
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil || n > 1<<26 {
		return fail("truncated or damaged header")
	}
	header := make([]byte, n)
	if _, err := io.ReadFull(r, header); err != nil {
		return fail("truncated header: %v", err)
	}
	var h ExportHeader
	if err := json.Unmarshal(header, &h); err != nil {
		return fail("damaged header: %v", err)
	}
	if !withData {
		return &h, nil, nil
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return fail("%v", err)
	}
	if int64(len(data)) != h.DataBytes {
		return fail("%d bytes of weights, the header says %d: truncated or damaged file", len(data), h.DataBytes)
	}
	if c := crc32.ChecksumIEEE(data); c != h.CRC32 {
		return fail("checksum mismatch (%08x, the header says %08x): damaged file", c, h.CRC32)
	}
	return &h, data, nil
}
