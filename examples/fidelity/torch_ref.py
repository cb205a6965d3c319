#!/usr/bin/env python3
"""The PyTorch side of examples/fidelity: the resq recipe written directly in
PyTorch, as a reference for resq's accuracy.

784-WIDTHxDEPTH-10 ReLU MLP (nn.Linear with PyTorch's default
initialisation unless --init he), F.dropout after every hidden activation,
torch.optim.SGD with momentum, batch 100, a fresh random order every epoch,
inputs /255, cosine learning rate (per epoch like resq, or per step); then
per bit width: direct quantization with the L2-optimal step per weight
tensor (biases float), and retraining with the quantized weights in the
forward and backward passes and the updates applied to float shadow weights
(the steps stay those of the float model), with the same optimizer.

Prints one JSON object per (seed, width, mode, bits) to stdout.

  /usr/bin/python3 torch_ref.py --data DIR --widths 32,128 --seeds 1,2,3
"""
import argparse, gzip, json, math, os, struct, sys, time


def read_idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    magic, = struct.unpack(">I", b[:4])
    nd = magic & 0xFF
    dims = struct.unpack(">" + "I" * nd, b[4:4 + 4 * nd])
    return dims, b[4 + 4 * nd:]


def load(torch, d, split):
    pre = "train" if split == "train" else "t10k"
    dims, px = read_idx(os.path.join(d, pre + "-images-idx3-ubyte.gz"))
    _, lb = read_idx(os.path.join(d, pre + "-labels-idx1-ubyte.gz"))
    x = torch.frombuffer(bytearray(px), dtype=torch.uint8).float().div_(255.0).view(dims[0], -1)
    y = torch.frombuffer(bytearray(lb), dtype=torch.uint8).long()
    return x, y


def l2_step(torch, w, qmax):
    """The step D minimising sum (Q(w) - w)^2 for Q with codes -qmax..qmax.

    Ternary (qmax 1) is exact: for k non-zero codes the best choice is the k
    largest magnitudes with D = their mean, error S - P_k^2/k. Wider codes:
    a grid of 400 steps, then the fixed-point iteration from the 8 best."""
    a = w.detach().abs().flatten().double()
    if qmax == 1:
        s, _ = torch.sort(a, descending=True)
        p = torch.cumsum(s, 0)
        k = torch.arange(1, s.numel() + 1, dtype=torch.float64)
        gain = p * p / k
        i = int(torch.argmax(gain))
        return float(p[i] / (i + 1))

    def err(d):
        z = torch.clamp(torch.floor(a / d + 0.5), max=qmax)
        return float(((z * d - a) ** 2).sum())

    amax = float(a.max())
    grid = [amax / qmax * (0.02 + 1.5 * i / 400) for i in range(1, 401)]
    errs = sorted((err(d), d) for d in grid)
    best_e, best_d = errs[0]
    for _, d in errs[:8]:
        for _ in range(100):
            z = torch.clamp(torch.floor(a / d + 0.5), max=qmax)
            zz = float((z * z).sum())
            if zz == 0:
                break
            nd = float((a * z).sum()) / zz
            if abs(nd - d) <= 1e-12 * d:
                d = nd
                break
            d = nd
        e = err(d)
        if e < best_e:
            best_e, best_d = e, d
    return best_d


def quantize(torch, w, d, qmax):
    return torch.sign(w) * d * torch.clamp(torch.floor(w.abs() / d + 0.5), max=qmax)


class MLP:
    def __init__(self, torch, width, depth, drop, init):
        nn = torch.nn
        dims = [784] + [width] * depth + [10]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        if init == "he":  # resq's former default: He normal weights, zero biases; Glorot uniform output layer
            for i, l in enumerate(self.layers):
                if i < depth:
                    nn.init.kaiming_normal_(l.weight, nonlinearity="relu")
                else:
                    nn.init.xavier_uniform_(l.weight)
                nn.init.zeros_(l.bias)
        self.drop = drop
        self.F = torch.nn.functional

    def parameters(self):
        return self.layers.parameters()

    def __call__(self, x, train):
        for i, l in enumerate(self.layers):
            x = l(x)
            if i + 1 < len(self.layers):
                x = self.F.relu(x)
                if self.drop > 0:
                    x = self.F.dropout(x, self.drop, training=train)
        return x


def test_error(torch, model, x, y):
    wrong = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], 1000):
            wrong += (model(x[i:i + 1000], False).argmax(1) != y[i:i + 1000]).sum().item()
    return 100.0 * wrong / x.shape[0]


def train(torch, model, x, y, epochs, lr, momentum, batch, sched, quant=None):
    """quant: list of (param, step, qmax): forward/backward with Q(W), update W."""
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    lossf = torch.nn.functional.cross_entropy
    n = x.shape[0]
    steps = (n + batch - 1) // batch
    shadow = None
    if quant:
        shadow = [p.detach().clone() for p, _, _ in quant]
    for e in range(epochs):
        perm = torch.randperm(n)
        for s, i in enumerate(range(0, n, batch)):
            if sched == "step":
                t = (e * steps + s) / (epochs * steps)
            else:
                t = e / epochs
            for g in opt.param_groups:
                g["lr"] = lr * (1 + math.cos(math.pi * t)) / 2
            idx = perm[i:i + batch]
            if quant:
                with torch.no_grad():
                    for (p, d, q), sw in zip(quant, shadow):
                        sw.copy_(p)
                        p.copy_(quantize(torch, sw, d, q))
            opt.zero_grad(set_to_none=True)
            loss = lossf(model(x[idx], True), y[idx])
            loss.backward()
            if quant:
                with torch.no_grad():
                    for (p, _, _), sw in zip(quant, shadow):
                        p.copy_(sw)
            opt.step()
    if quant:
        with torch.no_grad():
            for p, d, q in quant:
                p.copy_(quantize(torch, p, d, q))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="folder with the four IDX .gz files")
    ap.add_argument("--name", default="", help="dataset name written to the records")
    ap.add_argument("--widths", default="32,128,512,1024")
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--bits", default="2,3")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--drop", type=float, default=0.2)
    ap.add_argument("--retrain-epochs", type=int, default=4)
    ap.add_argument("--retrain-lr", type=float, default=0.01)
    ap.add_argument("--sched", choices=["epoch", "step"], default="epoch", help="cosine per epoch (as resq) or per step")
    ap.add_argument("--init", choices=["default", "he"], default="default")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0, help="smoke test: only the first N training and test samples")
    a = ap.parse_args()
    import torch
    torch.set_num_threads(a.threads)
    xtr, ytr = load(torch, a.data, "train")
    xte, yte = load(torch, a.data, "test")
    if a.limit > 0:
        xtr, ytr, xte, yte = xtr[:a.limit], ytr[:a.limit], xte[:a.limit], yte[:a.limit]
    name = a.name or os.path.basename(os.path.normpath(a.data))
    bits = [int(b) for b in a.bits.split(",") if b]
    for w in [int(v) for v in a.widths.split(",")]:
        for seed in [int(v) for v in a.seeds.split(",")]:
            base = {"peer": "pytorch", "torch": torch.__version__, "dataset": name, "width": w, "depth": a.depth,
                    "seed": seed, "init": a.init, "sched": a.sched, "epochs": a.epochs, "lr": a.lr,
                    "retrain_epochs": a.retrain_epochs, "retrain_lr": a.retrain_lr, "drop": a.drop}
            torch.manual_seed(seed)
            model = MLP(torch, w, a.depth, a.drop, a.init)
            t0 = time.perf_counter()
            train(torch, model, xtr, ytr, a.epochs, a.lr, a.momentum, a.batch, a.sched)
            secs = time.perf_counter() - t0
            print(json.dumps(dict(base, mode="float", bits=32, test_err_pct=test_error(torch, model, xte, yte), seconds=secs)), flush=True)
            state = {k: v.clone() for k, v in model.layers.state_dict().items()}
            for b in bits:
                qmax = (2 ** b - 2) // 2
                model.layers.load_state_dict(state)
                ws = [l.weight for l in model.layers]
                steps = [l2_step(torch, p, qmax) for p in ws]
                with torch.no_grad():
                    saved = [p.clone() for p in ws]
                    for p, d in zip(ws, steps):
                        p.copy_(quantize(torch, p, d, qmax))
                print(json.dumps(dict(base, mode="direct", bits=b, test_err_pct=test_error(torch, model, xte, yte))), flush=True)
                with torch.no_grad():
                    for p, s in zip(ws, saved):
                        p.copy_(s)
                if a.retrain_epochs > 0:
                    t0 = time.perf_counter()
                    train(torch, model, xtr, ytr, a.retrain_epochs, a.retrain_lr, a.momentum, a.batch, a.sched,
                          quant=[(p, d, qmax) for p, d in zip(ws, steps)])
                    print(json.dumps(dict(base, mode="retrain", bits=b, test_err_pct=test_error(torch, model, xte, yte),
                                          seconds=time.perf_counter() - t0)), flush=True)


if __name__ == "__main__":
    main()
