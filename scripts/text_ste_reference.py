#!/usr/bin/env python3
"""A PyTorch (CPU) reference for the STE arm of the text task: is our STE slow, or is the
one-hot sign network it trains what limits it?

The data are those of a `text` dataset (Sources/TernaryExperiments/TernaryExperiments.docc/
TextLanguageModelling.md): the last `--test-fraction` of the characters is test, the
`--validation-fraction` before it validation, the rest train; the vocabulary is the train
block's characters plus one symbol for unseen ones; a window is `--context` characters and
the next one. The network is the one-hot model of the STE baseline
(Sources/TernaryBackprop/TernaryBackprop.docc/STEBaseline.md): per layer gamma = mean|W|,
Wq = clamp(round(W / gamma), -1, 1); the first layer is an embedding sum (the context's
weight columns), z = gamma (sum) + b; the hidden activation is `--activation`:

- `sign` (ours): h = sign(z), straight-through gradient inside |z| <= gamma sqrt(fan_in);
- `relu` or `tanh`: float activations (the weights stay ternary), which TernEvo's integer
  network cannot express;

logits = exp(log_scale) gamma_L (Wq_L h). Adam, minibatches of `--batch` windows drawn at
random, `--seconds` of training on `--threads` threads; test bits per character on the first
`--eval-windows` test windows every `--eval-every` seconds (evaluation time excluded).

    pip install /opt/wheels/torch-*.whl   (or: pip install torch)
    python3 scripts/text_ste_reference.py experiments/data/kjv/kjv.txt --activation sign --seconds 60
"""
import argparse
import math
import time

import torch

from text_split import add_split_arguments, split_text


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("text")
    parser.add_argument("--context", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--activation", choices=["sign", "relu", "tanh"], default="sign")
    parser.add_argument("--ternary", choices=["yes", "no"], default="yes", help="ternary weights (STE) or float weights")
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--threads", type=int, default=1)
    add_split_arguments(parser)
    parser.add_argument("--eval-every", type=float, default=10)
    parser.add_argument("--eval-windows", type=int, default=100000)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    ids, vocabulary, validation_start, test_start = split_text(args.text, args)
    n = len(ids)
    stream = torch.tensor(ids, dtype=torch.long)
    C, V, H = args.context, vocabulary, args.hidden
    offsets = torch.arange(C) * V

    def windows(start, end, count=None):
        """Window start positions whose window and next character lie in [start, end)."""
        positions = torch.arange(start, end - C)
        return positions if count is None else positions[:count]

    train_positions = windows(0, validation_start)
    test_positions = windows(test_start, n, args.eval_windows)

    def batch(positions):
        inputs = stream[positions.unsqueeze(1) + torch.arange(C)] + offsets  # one-hot columns
        return inputs, stream[positions + C]

    bound0, bound1 = 1 / math.sqrt(C * V), 1 / math.sqrt(H)
    w0 = torch.empty(C * V, H).uniform_(-bound0, bound0).requires_grad_()
    b0 = torch.zeros(H, requires_grad=True)
    w1 = torch.empty(V, H).uniform_(-bound1, bound1).requires_grad_()
    log_scale = torch.zeros((), requires_grad=True)
    optimiser = torch.optim.Adam([w0, b0, w1, log_scale], lr=args.lr)
    ternary = args.ternary == "yes"

    def quantised(w):
        if not ternary:
            return w, torch.ones(())
        gamma = w.abs().mean().clamp_min(1e-8)
        q = torch.clamp(torch.round(w / gamma), -1, 1)
        return w / gamma + (q - w / gamma).detach(), gamma  # straight through

    class SignSTE(torch.autograd.Function):
        @staticmethod
        def forward(ctx, z, window):
            ctx.save_for_backward(z, window)
            return torch.where(z >= 0, torch.ones_like(z), -torch.ones_like(z))

        @staticmethod
        def backward(ctx, grad):
            z, window = ctx.saved_tensors
            return grad * (z.abs() <= window).to(grad.dtype) / window, None

    def forward(inputs):
        q0, g0 = quantised(w0)
        z = g0 * q0[inputs].sum(dim=1) + b0  # the embedding sum of the context's columns
        if args.activation == "sign":
            h = SignSTE.apply(z, (g0 * math.sqrt(C * V)).detach())
        elif args.activation == "relu":
            h = torch.relu(z)
        else:
            h = torch.tanh(z)
        q1, g1 = quantised(w1)
        return log_scale.exp() * g1 * (h @ q1.t())

    def test_bits():
        with torch.no_grad():
            total = 0.0
            for k in range(0, len(test_positions), 20000):
                inputs, labels = batch(test_positions[k:k + 20000])
                total += torch.nn.functional.cross_entropy(forward(inputs), labels, reduction="sum").item()
            return total / len(test_positions) / math.log(2)

    trained, steps, next_eval = 0.0, 0, 0.0
    print(f"{args.activation} activation, {'ternary' if ternary else 'float'} weights, {C}x{V}-{H}-{V}, lr {args.lr}, batch {args.batch}, "
          f"{args.threads} thread(s); {len(train_positions)} train windows, test bpc on {len(test_positions)} windows")
    while trained < args.seconds:
        if trained >= next_eval:
            print(f"  {trained:6.1f} s  step {steps:7d}  test {test_bits():.3f} bpc", flush=True)
            next_eval += args.eval_every
        start = time.perf_counter()
        picks = train_positions[torch.randint(len(train_positions), (args.batch,))]
        inputs, labels = batch(picks)
        loss = torch.nn.functional.cross_entropy(forward(inputs), labels)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        steps += 1
        trained += time.perf_counter() - start
    print(f"  {trained:6.1f} s  step {steps:7d}  test {test_bits():.3f} bpc (end)")


if __name__ == "__main__":
    main()
