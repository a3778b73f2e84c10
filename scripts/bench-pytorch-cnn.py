"""PyTorch reference for Flowbook's digits CNN training benchmark (tests/nn_bench.rs).

Same network (conv 16@3x3 pad 1, ReLU, max-pool 2, conv 32@3x3 pad 1, ReLU, max-pool 2,
flatten, dense 64, ReLU, dense 10), same data (80 % of example-graphs/data/digits.csv,
pixels / 16), same loop (shuffle, batch copy, forward, cross-entropy, backward, Adam step),
on the CPU with one thread. Prints the median samples/s of 7 runs per case.

    python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch
    /tmp/torchvenv/bin/python scripts/bench-pytorch-cnn.py
"""

import csv
import os
import statistics
import time

import torch
from torch import nn

RUNS = 7


def load_digits(path):
    with open(path) as f:
        rows = list(csv.reader(f))[1:]
    x = torch.tensor([[float(v) / 16.0 for v in r[:64]] for r in rows], dtype=torch.float32)
    y = torch.tensor([int(r[64]) for r in rows], dtype=torch.long)
    return x.reshape(-1, 1, 8, 8), y


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10),
    )


def samples_per_s(x, y, batch_size, epochs, seed):
    torch.manual_seed(seed)
    model = cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    samples = 0
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for i in range(0, len(x), batch_size):
            index = order[i:i + batch_size]
            xb, yb = x[index], y[index]
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            samples += len(index)
    return samples / (time.perf_counter() - start)


def main():
    torch.set_num_threads(1)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    x, y = load_digits(os.path.join(root, "example-graphs", "data", "digits.csv"))
    generator = torch.Generator().manual_seed(42)
    train = torch.randperm(len(x), generator=generator)[: int(0.8 * len(x))]
    x, y = x[train], y[train]
    print(f"PyTorch {torch.__version__}, 1 thread, digits CNN, {len(x)} training rows, median of {RUNS} runs")
    for name, batch_size, epochs in [("batch 32, Adam", 32, 10), ("batch 1, Adam", 1, 1)]:
        rates = sorted(samples_per_s(x, y, batch_size, epochs, run) for run in range(RUNS))
        print(f"{name:>15}: {statistics.median(rates):>10.0f} samples/s")


if __name__ == "__main__":
    main()
