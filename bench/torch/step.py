#!/usr/bin/python3
"""Times PyTorch's training step on the same network, loss and optimizer
as gosimcne, and prints one JSON line (the fields of bench/gostep).

The network mirrors tsimcne/model (backbones.go, model.go) and tsimcne/nn:
  * resnet18*/resnet10*: CIFAR ResNet, 3x3 stride-1 stem conv without bias,
    BN, ReLU, no max-pool; BasicBlocks, first block of stages 2-4 with stride
    2; 1x1 conv + BN shortcut where the shape changes; global average pool.
  * cnn4 (cnn-tiny): 4 x (3x3 conv, BN, ReLU) 32/64/128/256 (8/16/32/64),
    2x2 max-pool after every layer but the last (taken before the ReLU,
    which gives the same result on a 4x smaller tensor), global average pool.
A backbone registered in Go needs its entry in BACKBONES here.
  * head: Linear(features, 1024), ReLU, Linear(1024, 128).
Convolutions have no bias and Kaiming-normal (fan_out) weights, BN has
momentum 0.1 and eps 1e-5, as in tsimcne/nn. Module names follow the Go
variable scopes ("backbone.layer1.block0.conv1" <-> /backbone/layer1/block0/
conv1), so --check can load the weights gostep -dump wrote.

Loss: InfoNCE with the Cauchy kernel over the 2B views (view i's positive is
(i+B) mod 2B, denominator over the other 2B-1 views), as tsimcne/loss.
Optimizer: SGD(momentum 0.9, weight_decay 5e-4), gradients clipped by value
at 4 (clip_grad_value_) before the step, as tsimcne/optim.

  /usr/bin/python3 bench/torch/step.py --backbone cnn4 --batch 32 --threads 2
  /usr/bin/python3 bench/torch/step.py --check DIR   # DIR from gostep -dump
  python3 bench/torch/step.py --device cuda --batch 2048   # on a GPU (bench/gpu)

Debian's python3-torch (apt-get install python3-torch) runs on /usr/bin/python3.
"""

import argparse
import json
import math
import os
import resource
import sys
import time

import numpy as np
import torch
from torch import nn


def max_rss_mib():
    # ru_maxrss is in KiB on Linux; gostep reports the same measure.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_avg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return ""


START_RSS_MIB = max_rss_mib()  # after importing torch and numpy


def conv(cin, cout, k, stride=1):
    c = nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False)
    nn.init.kaiming_normal_(c.weight, mode="fan_out", nonlinearity="relu")
    return c


class Stem(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.conv = conv(3, width, 3)
        self.bn = nn.BatchNorm2d(width)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class BasicBlock(nn.Module):
    def __init__(self, cin, width, stride):
        super().__init__()
        self.conv1 = conv(cin, width, 3, stride)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv(width, width, 3)
        self.bn2 = nn.BatchNorm2d(width)
        self.has_shortcut = stride != 1 or cin != width
        if self.has_shortcut:
            self.shortcut_conv = conv(cin, width, 1, stride)
            self.shortcut_bn = nn.BatchNorm2d(width)

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        sc = self.shortcut_bn(self.shortcut_conv(x)) if self.has_shortcut else x
        return torch.relu(out + sc)


class Stage(nn.Module):
    def __init__(self, blocks):
        super().__init__()
        self.n = len(blocks)
        for i, b in enumerate(blocks):
            setattr(self, f"block{i}", b)

    def forward(self, x):
        for i in range(self.n):
            x = getattr(self, f"block{i}")(x)
        return x


class ResNet(nn.Module):
    """tsimcne/model.ResNet: Widths [4], Blocks [4]."""

    def __init__(self, widths, blocks):
        super().__init__()
        self.stem = Stem(widths[0])
        cin = widths[0]
        for s in range(4):
            bl = []
            for b in range(blocks[s]):
                stride = 2 if s > 0 and b == 0 else 1
                bl.append(BasicBlock(cin, widths[s], stride))
                cin = widths[s]
            setattr(self, f"layer{s + 1}", Stage(bl))
        self.feature_dim = widths[3]

    def forward(self, x):
        x = self.stem(x)
        for s in range(4):
            x = getattr(self, f"layer{s + 1}")(x)
        return x.mean(dim=(2, 3))


class PlainCNN(nn.Module):
    """tsimcne/model.PlainCNN."""

    def __init__(self, widths):
        super().__init__()
        self.n = len(widths)
        cin = 3
        for i, w in enumerate(widths):
            setattr(self, f"conv{i + 1}", conv(cin, w, 3))
            setattr(self, f"bn{i + 1}", nn.BatchNorm2d(w))
            cin = w
        self.feature_dim = widths[-1]

    def forward(self, x):
        for i in range(self.n):
            x = getattr(self, f"bn{i + 1}")(getattr(self, f"conv{i + 1}")(x))
            if i < self.n - 1 and x.shape[2] % 2 == 0 and x.shape[3] % 2 == 0:
                # Max-pool before ReLU, as the Go side: the same function.
                x = nn.functional.max_pool2d(x, 2)
            x = torch.relu(x)
        return x.mean(dim=(2, 3))


# The backbones of tsimcne/model/backbones.go.
BACKBONES = {
    "resnet18": lambda: ResNet([64, 128, 256, 512], [2, 2, 2, 2]),
    "resnet18-half": lambda: ResNet([32, 64, 128, 256], [2, 2, 2, 2]),
    "resnet18-quarter": lambda: ResNet([16, 32, 64, 128], [2, 2, 2, 2]),
    "resnet10": lambda: ResNet([64, 128, 256, 512], [1, 1, 1, 1]),
    "resnet10-half": lambda: ResNet([32, 64, 128, 256], [1, 1, 1, 1]),
    "cnn4": lambda: PlainCNN([32, 64, 128, 256]),
    "cnn-tiny": lambda: PlainCNN([8, 16, 32, 64]),
}


class Head(nn.Module):
    def __init__(self, features, hidden, out):
        super().__init__()
        self.hidden = nn.Linear(features, hidden)
        self.out_name = f"out{out}"
        setattr(self, self.out_name, nn.Linear(hidden, out))

    def forward(self, x):
        return getattr(self, self.out_name)(torch.relu(self.hidden(x)))


class Model(nn.Module):
    def __init__(self, backbone, hidden, out):
        super().__init__()
        self.backbone = BACKBONES[backbone]()
        self.head = Head(self.backbone.feature_dim, hidden, out)

    def forward(self, x):
        return self.head(self.backbone(x))


def info_nce_cauchy(z):
    """tsimcne/loss.InfoNCE with kernels.Cauchy: mean over the 2B views of
    -log(q(i, pos(i)) / sum_{j != i} q(i, j)), q = 1/(1+|zi-zj|^2)."""
    n = z.shape[0]
    b = n // 2
    d2 = (z.unsqueeze(1) - z.unsqueeze(0)).pow(2).sum(-1)
    log_q = -torch.log1p(d2)
    masked = log_q.masked_fill(torch.eye(n, dtype=torch.bool, device=log_q.device), float("-inf"))
    idx = torch.arange(n, device=z.device)
    return (torch.logsumexp(masked, dim=1) - log_q[idx, (idx + b) % n]).mean()


def make_step(model, lr, momentum=0.9, weight_decay=5e-4, clip=4.0):
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)

    def step(x):
        opt.zero_grad(set_to_none=True)
        loss = info_nce_cauchy(model(x))
        loss.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_value_(params, clip)
        opt.step()
        return loss.item()

    return step


def count_params(model):
    total = sum(p.numel() for p in model.parameters())
    backbone = sum(p.numel() for p in model.backbone.parameters())
    return backbone, total


def forward_flops(model, x):
    """2 * multiply-adds of the convolutions and linear layers of one forward
    pass, from the actual output shapes (forward hooks)."""
    total = [0]

    def hook(mod, inp, out):
        if isinstance(mod, nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1] * mod.in_channels // mod.groups
            total[0] += 2 * out.numel() * k
        elif isinstance(mod, nn.Linear):
            total[0] += 2 * out.numel() * mod.in_features

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(x)
    for h in hs:
        h.remove()
    return total[0]


def blas_library():
    """The BLAS shared library this process mapped (Linear layers use it;
    convolutions go through oneDNN)."""
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if "blas" in os.path.basename(path):
                    return path
    except OSError:
        pass
    return ""


def runtime_info(threads, channels_last, device="cpu"):
    info = {
        "device": device,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "mkldnn": str(torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled),
        "threads": str(torch.get_num_threads()),
        "interop_threads": str(torch.get_num_interop_threads()),
        "blas": blas_library(),
        "memory_format": "channels_last" if channels_last else "NCHW",
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
    }
    for line in torch.__config__.show().splitlines():
        if "MKL-DNN" in line or "oneDNN" in line:
            info["onednn"] = line.strip(" -")
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(device)
        info["cuda"] = str(torch.version.cuda)
        info["cudnn"] = str(torch.backends.cudnn.version())
        # PyTorch's defaults, which the reference t-simcne keeps: cuDNN
        # convolutions may use TF32, plain matrix products not.
        info["cudnn_tf32"] = str(torch.backends.cudnn.allow_tf32)
        info["matmul_tf32"] = str(torch.backends.cuda.matmul.allow_tf32)
        info["cudnn_benchmark"] = str(torch.backends.cudnn.benchmark)
    return info


def bench(args):
    torch.manual_seed(args.seed)
    model = Model(args.backbone, args.hidden, args.out)
    gen = torch.Generator().manual_seed(args.seed)
    x = torch.rand(args.batch, 3, args.size, args.size, generator=gen)
    model, x = model.to(args.device), x.to(args.device)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    model.train()
    pb, pt = count_params(model)
    fwd = forward_flops(model, x) / args.batch / 1e9 if not args.no_flops else 0.0
    step = make_step(model, args.lr)

    res = {
        "impl": "pytorch", "backbone": args.backbone, "batch": args.batch, "image_size": args.size,
        "hidden_dim": args.hidden, "out_dim": args.out, "threads": torch.get_num_threads(),
        "warmup": args.warmup, "start_rss_mib": START_RSS_MIB, "loadavg_start": load_avg(),
        "params_backbone": pb, "params_total": pt, "fwd_gflop_per_view": fwd,
    }
    losses, warm, times = [], [], []
    for _ in range(args.warmup):
        t0 = time.perf_counter()
        losses.append(step(x))
        warm.append(time.perf_counter() - t0)
    total = 0.0
    n = 0
    while n < args.steps or (total < args.min_seconds and n < args.max_steps):
        t0 = time.perf_counter()
        losses.append(step(x))
        d = time.perf_counter() - t0
        times.append(d)
        total += d
        n += 1
    if not all(math.isfinite(l) for l in losses):
        raise SystemExit(f"step.py: non-finite loss: {losses}")
    # Forward passes alone (train mode: batch statistics; network and loss,
    # no autograd), as gostep times them: one untimed, then max(steps, 3).
    fwd_times = []
    with torch.no_grad():
        for i in range(max(args.steps, 3) + 1):
            t0 = time.perf_counter()
            info_nce_cauchy(model(x)).item()
            if i > 0:
                fwd_times.append(time.perf_counter() - t0)
    res.update({
        "steps": n, "seconds": total, "views_per_s": args.batch * n / total, "step_s": times,
        "warmup_s": warm, "fwd_s": fwd_times, "peak_rss_mib": max_rss_mib(), "loss_first": losses[0], "loss_last": losses[-1],
        "loadavg_end": load_avg(), "runtime": runtime_info(args.threads, args.channels_last, args.device),
    })
    if args.device.startswith("cuda"):
        res["device_peak_mib"] = torch.cuda.max_memory_allocated(args.device) / 2**20
    print(json.dumps(res), flush=True)


# Go variable name (last part) -> PyTorch parameter name, and how to lay out
# the Go array for PyTorch.
def _torch_name_and_array(go_name, arr):
    parts = go_name.strip("/").split("/")
    last = parts[-1]
    if last == "weights" and arr.ndim == 4:  # [k, k, in, out] -> [out, in, k, k]
        return ".".join(parts[:-1] + ["weight"]), arr.transpose(3, 2, 0, 1)
    if last == "weights" and arr.ndim == 2:  # [in, out] -> [out, in]
        return ".".join(parts[:-1] + ["weight"]), arr.T
    if last == "scale":
        return ".".join(parts[:-1] + ["weight"]), arr
    if last in ("offset", "bias"):
        return ".".join(parts[:-1] + ["bias"]), arr
    raise ValueError(f"unknown Go variable {go_name!r}")


def check(args):
    """Replays gostep -dump: same input and initial weights, same steps;
    compares the losses and the parameter sets."""
    d = args.check
    with open(os.path.join(d, "manifest.json")) as f:
        m = json.load(f)

    def load(a):
        arr = np.fromfile(os.path.join(d, a["file"]), dtype="<f4")
        if arr.size != int(np.prod(a["shape"])):
            raise SystemExit(f"step.py --check: {a['file']} ({a['name']}) has {arr.size} values, want shape {a['shape']}")
        return arr.reshape(a["shape"])

    torch.manual_seed(0)
    model = Model(m["backbone"], m["hidden_dim"], m["out_dim"])
    model.train()
    params = dict(model.named_parameters())
    assigned, problems, initial = set(), [], {}
    for a in m["params"]:
        name, arr = _torch_name_and_array(a["name"], load(a))
        p = params.get(name)
        if p is None:
            problems.append(f"Go variable {a['name']} has no PyTorch parameter {name}")
            continue
        if tuple(p.shape) != arr.shape:
            problems.append(f"{a['name']} {list(arr.shape)} vs PyTorch {name} {list(p.shape)}")
            continue
        with torch.no_grad():
            p.copy_(torch.from_numpy(np.ascontiguousarray(arr)))
        initial[name] = p.detach().clone()
        assigned.add(name)
    missing = sorted(set(params) - assigned)
    if missing:
        problems.append(f"PyTorch parameters without a Go variable: {missing}")
    x = torch.from_numpy(np.ascontiguousarray(load(m["input"]).transpose(0, 3, 1, 2)))  # NHWC -> NCHW
    step = make_step(model, m["lr"], m["momentum"], m["weight_decay"], m["clip_value"])
    go_losses = m["losses"]
    torch_losses = [step(x) for _ in go_losses]
    rel = [abs(a - b) / max(abs(a), 1e-12) for a, b in zip(go_losses, torch_losses)]

    # The weights after the steps: relative error of the total update,
    # |dw_torch - dw_go| / |dw_go| over all parameters, and the worst parameter.
    num = den = 0.0
    worst = ("", 0.0)
    for a in m.get("final_params", []):
        name, arr = _torch_name_and_array(a["name"], load(a))
        if name not in initial:
            continue
        w0 = initial[name].double()
        d_go = torch.from_numpy(np.ascontiguousarray(arr)).double() - w0
        d_t = params[name].detach().double() - w0
        e, n = (d_t - d_go).norm().item() ** 2, d_go.norm().item() ** 2
        num, den = num + e, den + n
        if n > 0 and math.sqrt(e / n) > worst[1]:
            worst = (name, math.sqrt(e / n))
    update_rel = math.sqrt(num / den) if den > 0 else float("nan")

    pb, pt = count_params(model)
    max_rel = max(rel, default=float("nan"))
    failures = list(problems)
    if not rel or rel[0] > args.tolerance_first:
        failures.append(f"first loss differs by {rel[0] if rel else 'n/a'} (relative), tolerance {args.tolerance_first}")
    if max_rel > args.tolerance:
        failures.append(f"losses differ by up to {max_rel} (relative), tolerance {args.tolerance}")
    if update_rel > args.update_tolerance:
        failures.append(f"weight updates differ by {update_rel} (relative), tolerance {args.update_tolerance}")
    if worst[1] > args.param_update_tolerance:
        failures.append(f"update of {worst[0]} differs by {worst[1]} (relative), tolerance {args.param_update_tolerance}")
    ok = not failures
    print(json.dumps({
        "check": "loss", "backbone": m["backbone"], "batch": m["batch"], "lr": m["lr"], "ok": ok,
        "params_matched": len(assigned), "params_go": len(m["params"]), "params_torch": len(params),
        "params_backbone": pb, "params_total": pt,
        "go_losses": go_losses, "torch_losses": torch_losses, "first_rel_diff": rel[0] if rel else None,
        "max_rel_diff": max_rel, "update_rel_diff": update_rel, "worst_param": worst[0],
        "worst_param_rel_diff": worst[1], "failures": failures,
    }), flush=True)
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backbone", default="resnet18", choices=sorted(BACKBONES))
    ap.add_argument("--batch", type=int, default=32, help="views per step B (even)")
    ap.add_argument("--size", type=int, default=32, help="image height and width")
    ap.add_argument("--hidden", type=int, default=1024)
    ap.add_argument("--out", type=int, default=128)
    ap.add_argument("--steps", type=int, default=3, help="timed steps (at least)")
    ap.add_argument("--min-seconds", type=float, default=0, help="keep timing until this many seconds passed")
    ap.add_argument("--max-steps", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="torch.set_num_threads (default: all cores)")
    ap.add_argument("--channels-last", action="store_true", help="NHWC (channels_last) tensors instead of NCHW")
    ap.add_argument("--no-flops", action="store_true")
    ap.add_argument("--device", default="cpu", help="torch device: cpu, or cuda on a GPU (the step's loss.item() synchronises)")
    ap.add_argument("--check", metavar="DIR", help="replay a gostep -dump DIR and compare the losses")
    # Tolerances of --check. Float32 rounding alone gives about 1e-7 on the
    # first loss, and 1e-3 to 3e-2 on the weight updates: the two sides'
    # rounding puts a few ReLU inputs that are within ~1e-6 of 0 on
    # different sides, which changes those units' gradients entirely (checked
    # against float64). A different optimizer (no momentum at step 2, no
    # weight decay: head.out128.bias has a zero gradient, so its update is
    # pure weight decay) shows as a 30-100% difference.
    ap.add_argument("--tolerance-first", type=float, default=1e-5, help="--check: relative difference of the first loss")
    ap.add_argument("--tolerance", type=float, default=1e-3, help="--check: relative difference of any loss")
    ap.add_argument("--update-tolerance", type=float, default=0.1,
                    help="--check: relative difference of all the weight updates together")
    ap.add_argument("--param-update-tolerance", type=float, default=0.25,
                    help="--check: relative difference of any one parameter's update")
    args = ap.parse_args()
    if args.batch < 2 or args.batch % 2:
        ap.error("--batch must be even and >= 2")
    torch.set_num_threads(max(1, args.threads))
    torch.set_num_interop_threads(1)
    if args.check:
        sys.exit(check(args))
    bench(args)


if __name__ == "__main__":
    main()
