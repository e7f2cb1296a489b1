"""Teach a sequence-to-sequence model to reverse short digit strings, on a CPU in about a minute.

It shows the parts of networks/ that no algorithm of gymforge uses yet, in the smallest task that needs them,
through two models kept here beside it (examples/seq2seq/), not in gymforge:
  - recurrent: seq2seq/recurrent.py's RecurrentSeq2Seq, a bidirectional GRU encoder and a decoder that attends to
    every encoder step with additive (Bahdanau) or multiplicative (Luong: general, dot) attention
    (gymforge.networks.attention);
  - transformer: seq2seq/transformer.py's TransformerSeq2Seq, built from the encoder and decoder blocks of
    gymforge.networks.transformer.
Reversing needs attention: the first digit out is the last one in, so a decoder that saw only a summary of the
input would have to squeeze every position into it.

    python examples/seq2seq_reverse.py                              # all three, about a minute
    python examples/seq2seq_reverse.py --model transformer --length 10 --steps 600
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the models in seq2seq/, also when loaded by path

from gymforge.networks import make_optimizer  # noqa: E402
from seq2seq.recurrent import RecurrentSeq2Seq  # noqa: E402
from seq2seq.transformer import TransformerSeq2Seq  # noqa: E402

MODELS = ("recurrent-additive", "recurrent-general", "transformer")


def make_batch(count: int, length: int, digits: int, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
    """Random digit strings (count, length), their reversals, and the decoder's input: the reversal shifted
    right behind a start token (the token after the digits), as teacher forcing feeds it."""
    source = torch.randint(0, digits, (count, length), generator=generator)
    target = source.flip(1)
    start = torch.full((count, 1), digits)
    return source, target, torch.cat([start, target[:, :-1]], dim=1)


def build(model: str, digits: int) -> tuple[torch.nn.Module, float]:
    """The model (source vocabulary: the digits; target: the digits and the start token) and its learning rate."""
    if model == "transformer":
        return TransformerSeq2Seq(digits, digits + 1, embed_dim=32, num_heads=4, num_layers=1), 3e-3
    attention = model.removeprefix("recurrent-")
    return RecurrentSeq2Seq(digits, digits + 1, embed_dim=16, hidden_size=48, kind="gru", attention=attention), 1e-2


def train(model_name: str, steps: int, length: int = 6, digits: int = 10, batch: int = 64,
          seed: int = 0) -> tuple[torch.nn.Module, dict[str, float]]:
    """Adam on fresh random strings for `steps` batches; returns the model and its greedy decoding's digit and
    whole-string accuracy on 1000 strings it never saw (chance: 1/digits and 1/digits**length)."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model, learning_rate = build(model_name, digits)
    optimizer = make_optimizer("adam", model, lr=learning_rate)
    for _ in range(steps):
        source, target, target_in = make_batch(batch, length, digits, generator)
        loss = F.cross_entropy(model(source, target_in).flatten(0, 1), target.flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    source, target, _ = make_batch(1000, length, digits, torch.Generator().manual_seed(seed + 1))
    with torch.no_grad():
        correct = model.eval().generate(source, start_token=digits, length=length) == target
    return model, {"digit_accuracy": correct.float().mean().item(),
                   "string_accuracy": correct.all(1).float().mean().item()}


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=[*MODELS, "all"], default="all")
    parser.add_argument("--steps", type=int, default=600, help="training batches of 64 strings (default 600)")
    parser.add_argument("--length", type=int, default=8, help="digits per string (default 8)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # networks this small run several times faster on one thread than on many
    results = {}
    for name in MODELS if args.model == "all" else (args.model,):
        model, results[name] = train(name, args.steps, args.length, seed=args.seed)
        example = torch.arange(args.length).remainder(10).unsqueeze(0)  # 0 1 2 ... -> ... 2 1 0
        with torch.no_grad():
            output = model.generate(example, start_token=10, length=args.length)[0].tolist()
        print(f"{name:>20}: digits {results[name]['digit_accuracy']:.1%}, whole strings "
              f"{results[name]['string_accuracy']:.1%}; {''.join(map(str, example[0].tolist()))} -> "
              f"{''.join(map(str, output))}")
    return results


if __name__ == "__main__":
    main()
