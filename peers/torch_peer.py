#!/usr/bin/env python3
"""PyTorch peer for resq's speed comparisons.

Times, on the same machine and data as resq:
  train-mlp : one MNIST epoch of 784-1024-1024-1024-10 ReLU MLP, batch 100,
              SGD momentum 0.9, dropout (like `resq train --model
              mlp:784-1024x3-10,drop=0.2`).
  train-cnn : one MNIST epoch of the resq MNIST CNN (32c5-p2-64c5-p2-fc512-10).
  train-lstm: one sequential-MNIST epoch of nn.LSTM(28, 128) + Linear(128,
              10) over 28 steps of 28 pixel rows, batch 100, Adam lr 0.002,
              gradients clipped to norm 1 (like `resq train --model
              lstm:28-128-10 --data seq-mnist --optimizer adam --clip 1`).
  infer-mlp : float32 inference throughput of 784-1024x3-10 over the test
              set, batch 100 (--batch).

Best setting on 2 cores (see shared/method.md): torch.set_num_threads(1) and
OpenBLAS on 2 threads; pass --threads to try others. Prints one JSON object
per line. Reads the MNIST IDX .gz files from --mnist DIR (resq's cache folder).
"""
import argparse, gzip, json, os, struct, sys, time

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

def mlp(torch, drop):
    nn = torch.nn
    layers, w = [], 784
    for _ in range(3):
        layers += [nn.Linear(w, 1024), nn.ReLU()]
        if drop > 0:
            layers.append(nn.Dropout(drop))
        w = 1024
    layers.append(nn.Linear(w, 10))
    return nn.Sequential(*layers)

def cnn(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 512), nn.ReLU(), nn.Linear(512, 10))

def lstm(torch, hidden=128):
    """nn.LSTM over the 28 pixel rows of an image, classified from the last step."""
    nn = torch.nn
    class LSTMClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(28, hidden, batch_first=True)
            self.fc = nn.Linear(hidden, 10)
        def forward(self, x):
            out, _ = self.rnn(x)
            return self.fc(out[:, -1])
    return LSTMClassifier()

def train_epoch(torch, model, x, y, batch, lr, shape=None, adam=False, clip=0.0):
    if adam:
        opt = torch.optim.Adam(model.parameters(), lr=lr)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    lossf = torch.nn.CrossEntropyLoss()
    model.train()
    perm = torch.randperm(x.shape[0])
    t0 = time.perf_counter()
    for i in range(0, x.shape[0], batch):
        idx = perm[i:i + batch]
        xb = x[idx]
        if shape is not None:
            xb = xb.view(-1, *shape)
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(xb), y[idx])
        loss.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
    return time.perf_counter() - t0

def test_error(torch, model, x, y, shape=None):
    model.eval()
    wrong = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], 1000):
            xb = x[i:i + 1000]
            if shape is not None:
                xb = xb.view(-1, *shape)
            wrong += (model(xb).argmax(1) != y[i:i + 1000]).sum().item()
    return 100.0 * wrong / x.shape[0]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["train-mlp", "train-cnn", "train-lstm", "infer-mlp"])
    ap.add_argument("--mnist", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--drop", type=float, default=0.2)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--batch", type=int, default=100, help="infer-mlp: samples per forward call")
    a = ap.parse_args()
    import torch
    torch.manual_seed(1)
    torch.set_num_threads(a.threads)
    xtr, ytr = load(torch, a.mnist, "train")
    xte, yte = load(torch, a.mnist, "test")
    rec = {"peer": "pytorch", "torch": torch.__version__, "what": a.what,
           "torch_threads": a.threads, "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default")}
    if a.what == "train-lstm":
        model, shape = lstm(torch), (28, 28)
        secs = [train_epoch(torch, model, xtr, ytr, 100, 0.002, shape, adam=True, clip=1.0) for _ in range(a.epochs)]
        rec.update(epoch_seconds=secs, test_error_pct=test_error(torch, model, xte, yte, shape))
    elif a.what.startswith("train"):
        if a.what == "train-mlp":
            model, shape, lr = mlp(torch, a.drop), None, 0.05
        else:
            model, shape, lr = cnn(torch), (1, 28, 28), 0.05
        secs = [train_epoch(torch, model, xtr, ytr, 100, lr, shape) for _ in range(a.epochs)]
        rec.update(epoch_seconds=secs, test_error_pct=test_error(torch, model, xte, yte, shape))
    else:
        # Cycles over the test set in batches of --batch for --seconds, like
        # `resq infer` and `resq eval` do over the test split.
        model = mlp(torch, 0.0).eval()
        bs = a.batch
        batches = [xte[i:i + bs].contiguous() for i in range(0, xte.shape[0] - bs + 1, bs)]
        n, k, t0 = 0, 0, time.perf_counter()
        with torch.no_grad():
            while time.perf_counter() - t0 < a.seconds:
                model(batches[k % len(batches)])
                n += bs
                k += 1
        rec.update(samples_per_second=n / (time.perf_counter() - t0), batch=bs)
    print(json.dumps(rec), flush=True)

if __name__ == "__main__":
    main()
