#!/usr/bin/env python3
"""Trains and exports the scale benchmark's models (issue 12) from PyTorch:

* lenet5      — LeNet-5 on 28×28 inputs (the vendored 8×8 digits upscaled,
                bilinear): conv 6@5×5 (pad 2) → max pool → conv 16@5×5 →
                max pool → fc 120 → 84 → 10, ReLU; 61,706 parameters,
                416k multiply-accumulates.
* mlp90k      — 784 → 100 → 100 → 10 on the same 28×28 inputs, ReLU;
                89,610 parameters.
* convfc3     — three layers on the 8×8 digits: conv 8@3×3 (pad 1) → conv
                16@3×3 stride 2 → fc 256 → 10, ReLU; ~25k MACs.

Each gets `<name>.onnx` (opset 13, batch 1, as torch.onnx.export writes
it), `<name>.calibration.json` (EZKL's input_data, 32 training digits) and
`<name>.report.json` (held-out float accuracy, onnxruntime's outputs on 8
held-out digits). Accuracy is reported, not targeted.

Run by hand (needs torch, onnx, onnxruntime); the benchmark uses only the
committed files:

    python3 benches/models/make_bench_models.py
"""
import gzip
import json
import os

import numpy as np
import onnxruntime
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
DIGITS = os.path.join(HERE, "..", "..", "models", "data", "digits.csv.gz")
torch.manual_seed(20261130)


def digits():
    """(train x, train y, test x, test y): 8×8 pixels / 16; the test split is
    every fifth row, as zkinfer's."""
    xs, ys = [], []
    with gzip.open(DIGITS, "rt") as f:
        for line in f:
            values = line.split(",")
            xs.append([float(v) / 16.0 for v in values[:64]])
            ys.append(int(values[64]))
    x = torch.tensor(xs, dtype=torch.float32).reshape(-1, 1, 8, 8)
    y = torch.tensor(ys)
    test = torch.arange(len(y)) % 5 == 0
    return x[~test], y[~test], x[test], y[test]


def upscale(x):
    return F.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False)


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class Mlp90k(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 100)
        self.fc2 = nn.Linear(100, 100)
        self.fc3 = nn.Linear(100, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class ConvFc3(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.fc = nn.Linear(256, 10)

    def forward(self, x):
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        return self.fc(torch.flatten(x, 1))


def train(model, x, y, epochs=60):
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(epochs):
        for batch in torch.randperm(len(y)).split(64):
            opt.zero_grad()
            F.cross_entropy(model(x[batch]), y[batch]).backward()
            opt.step()
    return model.eval()


def rounded(x):
    """Values as the JSON files hold them: 4 decimals (pixels are multiples
    of 1/16 upscaled; the files stay small)."""
    return [[round(float(v), 4) for v in row] for row in x.reshape(len(x), -1)]


def export(name, model, train_x, test_x, test_y):
    path = os.path.join(HERE, f"{name}.onnx")
    torch.onnx.export(model, train_x[:1], path, opset_version=13,
                      input_names=["input"], output_names=["output"], dynamo=False)
    with torch.no_grad():
        accuracy = (model(test_x).argmax(1) == test_y).float().mean().item()
    with open(os.path.join(HERE, f"{name}.calibration.json"), "w") as f:
        json.dump({"input_data": [sum(rounded(train_x[:32]), [])]}, f)
    session = onnxruntime.InferenceSession(path)
    held_out = rounded(test_x[:8])
    shape = (1,) + tuple(test_x.shape[1:])
    outputs = [session.run(None, {"input": np.array(x, np.float32).reshape(shape)})[0]
               .reshape(-1).tolist() for x in held_out]
    parameters = sum(p.numel() for p in model.parameters())
    with open(os.path.join(HERE, f"{name}.report.json"), "w") as f:
        json.dump({"parameters": parameters, "float_test_accuracy": accuracy,
                   "onnxruntime": onnxruntime.__version__, "torch": torch.__version__,
                   "held_out_inputs": held_out, "held_out_outputs": outputs}, f)
    print(f"{name}: {parameters} parameters, float test accuracy {accuracy:.3f}")


def main():
    train_x, train_y, test_x, test_y = digits()
    big_train, big_test = upscale(train_x), upscale(test_x)
    export("lenet5", train(LeNet5(), big_train, train_y), big_train, big_test, test_y)
    export("mlp90k", train(Mlp90k(), big_train, train_y), big_train, big_test, test_y)
    export("convfc3", train(ConvFc3(), train_x, train_y), train_x, test_x, test_y)


if __name__ == "__main__":
    main()
