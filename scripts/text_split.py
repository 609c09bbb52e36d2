"""The split of a `text` dataset, shared by the Python references of the text task.

The last `--test-fraction` of the characters is test, the `--validation-fraction` before it
validation, the rest train; the vocabulary is the train block's characters plus one symbol for
unseen ones (TextLanguageModelling.md in Sources/TernaryExperiments/TernaryExperiments.docc).
"""


def add_split_arguments(parser):
    """The split's options (and --seed) on an argparse parser."""
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--test-fraction", type=float, default=0.1)
    parser.add_argument("--validation-fraction", type=float, default=0.05)


def split_text(path, args):
    """(symbol ids of every character, vocabulary size, validation start, test start)."""
    text = open(path, encoding="utf-8").read()
    n = len(text)
    test_start = n - int(n * args.test_fraction)
    validation_start = test_start - int(n * args.validation_fraction)
    symbols = sorted(set(text[:validation_start]))
    index = {s: k for k, s in enumerate(symbols)}
    unseen = len(symbols)
    return [index.get(c, unseen) for c in text], unseen + 1, validation_start, test_start
