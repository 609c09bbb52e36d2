#!/usr/bin/env python3
"""The STE-backprop baseline of `ternevo train` in PyTorch (CPU), for checking ours against it.

Same data, split and recipe as `ternevo train DATA.csv`: the stratified split is reproduced
bit for bit (the same xoshiro256** streams), inputs are quantised on the train split and fed
as q / Q, and the network is the one of Sources/TernaryBackprop/TernaryBackprop.docc/STEBaseline.md:

- STE arm: per layer gamma = mean|W|, Wq = clamp(round(W / gamma), -1, 1), z = gamma (Wq . a) + b
  (hidden layers have a bias, the output layer none), hidden h = sign(z) with the hardtanh
  straight-through gradient on u = z / (gamma sqrt(fan_in)) (--window fixed: z / sqrt(fan_in),
  the published recipe), logits = exp(log_scale) * z_L;
- float arm: z = W . a + b, h = tanh(z), logits = exp(log_scale) * z_L;
- Adam (or AdamW with --weight-decay), minibatches in a seeded order, constant or cosine rate,
  weights uniform in +-1/sqrt(fan_in), denormals flushed to zero.

It prints one line per epoch (training seconds, loss, test accuracy) and a summary with the
training time to 90% and 95% test accuracy.

    pip install -r scripts/requirements.txt
    python3 scripts/ste_reference.py experiments/data/digits.csv --arm ste --epochs 30
    python3 scripts/ste_reference.py synthetic:parity:10 --hidden 32 --epochs 300
"""
import argparse
import csv
import math
import time

MASK = (1 << 64) - 1


def splitmix_mix(z):
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9 & MASK
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB & MASK
    return z ^ (z >> 31)


class Xoshiro256:
    """xoshiro256** seeded as TernaryCore's Xoshiro256(seed:stream:)."""

    def __init__(self, seed, stream=()):
        folded = splitmix_mix(seed & MASK)
        for depth, index in enumerate(stream):
            folded = splitmix_mix(folded ^ splitmix_mix((index + (depth + 1) * 0xD1B54A32D192ED03) & MASK))
        state = folded
        self.s = []
        for _ in range(4):
            state = (state + 0x9E3779B97F4A7C15) & MASK
            self.s.append(splitmix_mix(state))

    @staticmethod
    def rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK

    def next(self):
        s = self.s
        result = self.rotl(s[1] * 5 & MASK, 7) * 9 & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t
        s[3] = self.rotl(s[3], 45)
        return result

    def below(self, bound):
        """Lemire's method, as uniformBelow."""
        product = self.next() * bound
        low = product & MASK
        if low < bound:
            floor = ((1 << 64) - bound) % bound
            while low < floor:
                product = self.next() * bound
                low = product & MASK
        return product >> 64


def stratified_split(labels, classes, test_fraction, seed):
    rng = Xoshiro256(seed, [0x5EED])
    is_test = [False] * len(labels)
    for label in range(classes):
        members = [i for i, y in enumerate(labels) if y == label]
        for k in range(len(members) - 1, 0, -1):
            j = rng.below(k + 1)
            members[k], members[j] = members[j], members[k]
        take = int(math.floor(test_fraction * len(members) + 0.5))
        for index in members[:take]:
            is_test[index] = True
    train = [i for i in range(len(labels)) if not is_test[i]]
    test = [i for i in range(len(labels)) if is_test[i]]
    return train, test


def synthetic(name):
    """The built-in tasks `xor` and `parity:N` of `ternevo`, in the same example order."""
    if name == "xor":
        return [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0]
    if name.startswith("parity:") and name[7:].isdigit() and 1 <= int(name[7:]) <= 16:
        n = int(name[7:])
        patterns = range(1 << n)
        return [[float(p >> bit & 1) for bit in range(n)] for p in patterns], [bin(p).count("1") & 1 for p in patterns]
    raise SystemExit(f"ste_reference: synthetic:{name}: only synthetic:xor and synthetic:parity:N are built in here")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="a CSV file (header row, a 'label' column) or synthetic:xor / synthetic:parity:N")
    parser.add_argument("--arm", choices=["ste", "float"], default="ste")
    parser.add_argument("--hidden", default="128")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--schedule", choices=["constant", "cosine"], default="constant")
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--bits", type=int, default=8)
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--window", choices=["scaled", "fixed"], default="scaled",
                        help="STE window of the hidden sign: scaled, gamma sqrt(fan_in), which follows the "
                             "latent weights' scale (ternevo's default), or fixed sqrt(fan_in), the published "
                             "recipe, which collapses on long constant-rate runs")
    parser.add_argument("--diagnose", type=int, default=0, metavar="N",
                        help="every N epochs, print each hidden layer's gamma, the share of its "
                             "pre-activations inside the STE window, and its constant units")
    parser.add_argument("--exact", action="store_true",
                        help="STE arm: also score the network as ternevo exports it (integer logits, ties to class 0)")
    args = parser.parse_args()

    import torch
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)

    if args.data.startswith("synthetic:"):
        features, labels = synthetic(args.data[len("synthetic:"):])
    else:
        with open(args.data) as f:
            rows = list(csv.reader(f))
        header, body = rows[0], rows[1:]
        label_column = header.index("label")
        labels = [int(r[label_column]) for r in body]
        features = [[float(v) for j, v in enumerate(r) if j != label_column] for r in body]
    classes = max(labels) + 1
    train_idx, test_idx = stratified_split(labels, classes, args.test_fraction, args.seed)
    lo = min(v for i in train_idx for v in features[i])
    hi = max(v for i in train_idx for v in features[i])
    levels = (1 << args.bits) - 1

    def quantise(i):
        if hi <= lo:
            return [0.0] * len(features[i])
        return [float(min(levels, max(0, math.floor((v - lo) / (hi - lo) * levels + 0.5)))) for v in features[i]]

    x_train = torch.tensor([quantise(i) for i in train_idx]) / levels
    y_train = torch.tensor([labels[i] for i in train_idx])
    x_test = torch.tensor([quantise(i) for i in test_idx]) / levels
    y_test = torch.tensor([labels[i] for i in test_idx])
    sizes = [x_train.shape[1]] + [int(h) for h in args.hidden.split("-")] + [classes]

    class SignSTE(torch.autograd.Function):
        @staticmethod
        def forward(ctx, z, window):
            ctx.save_for_backward(z)
            ctx.window = window
            return torch.where(z >= 0, torch.ones_like(z), -torch.ones_like(z))

        @staticmethod
        def backward(ctx, grad):
            (z,) = ctx.saved_tensors
            u = z / ctx.window
            return grad * (u.abs() <= 1).to(grad.dtype) / ctx.window, None

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = torch.nn.ParameterList()
            self.biases = torch.nn.ParameterList()
            for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
                bound = 1 / math.sqrt(n_in)
                self.weights.append(torch.nn.Parameter(torch.empty(n_out, n_in).uniform_(-bound, bound)))
                if l < len(sizes) - 2:
                    self.biases.append(torch.nn.Parameter(torch.zeros(n_out)))
            self.log_scale = torch.nn.Parameter(torch.zeros(()))
            self.record = None

        def forward(self, a):
            for l, w in enumerate(self.weights):
                if args.arm == "ste":
                    gamma = w.abs().mean()
                    wq = torch.clamp(torch.round(w / gamma), -1, 1)
                    w_eff = w + (gamma * wq - w).detach()   # straight through to W
                else:
                    w_eff = w
                z = a @ w_eff.t()
                if l < len(self.weights) - 1:
                    z = z + self.biases[l]
                    if args.arm == "ste":
                        window = math.sqrt(w.shape[1])
                        if args.window == "scaled":
                            window *= gamma.detach().item()
                        if self.record is not None:
                            self.record.append((gamma.item(), (z.abs() <= window).float().mean().item(),
                                                int(((z >= 0).all(0) | (z < 0).all(0)).sum().item())))
                        a = SignSTE.apply(z, window)
                    else:
                        a = torch.tanh(z)
                else:
                    return torch.exp(self.log_scale) * z

    def exact_accuracy(net, x, y, levels):
        """Test accuracy of the network as `ternevo` exports it: integer sums (exact in float64),
        hidden sign `Wq . q >= ceil(-Q b / gamma)` (then `ceil(-b / gamma)`), integer logits,
        ties to the lowest class. Returns it and the number of examples whose top two logits tie."""
        with torch.no_grad():
            a = torch.round(x.double() * levels)
            for l, w in enumerate(net.weights):
                gamma = w.abs().mean().double()
                wq = torch.clamp(torch.round(w / w.abs().mean()), -1, 1).double()
                sums = a @ wq.t()
                if l == len(net.weights) - 1:
                    top = torch.topk(sums, 2, dim=1).values
                    ties = int((top[:, 0] == top[:, 1]).sum().item())
                    return (sums.argmax(1) == y).double().mean().item(), ties
                scale = levels if l == 0 else 1
                theta = torch.ceil(-scale * net.biases[l].double() / gamma)
                a = torch.where(sums >= theta, 1.0, -1.0).double()

    net = Net()
    if args.weight_decay > 0:
        optimizer = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    else:
        optimizer = torch.optim.Adam(net.parameters(), lr=args.lr)
    steps_per_epoch = math.ceil(len(train_idx) / args.batch)
    generator = torch.Generator().manual_seed(args.seed)
    train_seconds, best, reached, step = 0.0, (0.0, 0), {}, 0
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(len(train_idx), generator=generator)
        total = 0.0
        for k in range(0, len(train_idx), args.batch):
            if args.schedule == "cosine":
                progress = min(1.0, step / (steps_per_epoch * args.epochs))
                for group in optimizer.param_groups:
                    group["lr"] = args.lr * (1 + math.cos(math.pi * progress)) / 2
            batch = order[k:k + args.batch]
            loss = torch.nn.functional.cross_entropy(net(x_train[batch]), y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
            step += 1
        train_seconds += time.perf_counter() - start
        with torch.no_grad():
            accuracy = (net(x_test).argmax(1) == y_test).float().mean().item()
        for target in (90, 95):
            if target not in reached and accuracy * 100 >= target:
                reached[target] = train_seconds
        if accuracy > best[0]:
            best = (accuracy, epoch)
        line = f"epoch {epoch:4d}  train {train_seconds:7.3f} s  loss {total / len(train_idx):.4f}  test {100 * accuracy:.2f}%"
        if args.exact and args.arm == "ste":
            exact, ties = exact_accuracy(net, x_test, y_test, levels)
            line += f"  (exported: {100 * exact:.2f}%, {ties} exact logit ties)"
        if args.diagnose and args.arm == "ste" and epoch % args.diagnose == 0:
            with torch.no_grad():
                net.record = []
                net(x_train)
                line += "".join(f"  [layer {l}: gamma {g:.3f}, in window {100 * f:.1f}%, constant units {c}]"
                                for l, (g, f, c) in enumerate(net.record))
                net.record = None
        print(line)
    print(f"epochs {args.epochs}, {train_seconds:.3f} s training ({train_seconds / args.epochs:.4f} s per epoch)")
    print(f"best test accuracy {100 * best[0]:.2f}% (epoch {best[1]})")
    for target in (90, 95):
        print(f"training time to {target}% test accuracy: " +
              (f"{reached[target]:.3f} s" if target in reached else "not reached"))


if __name__ == "__main__":
    main()
