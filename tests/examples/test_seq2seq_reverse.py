"""The examples run and learn: each seq2seq model of examples/seq2seq_reverse.py, on a small budget, reverses
strings it never saw far above chance (1 in 6 per digit)."""

import pytest

from tests.helpers import load_example


@pytest.mark.parametrize("model, steps", [("transformer", 150), ("recurrent-additive", 300),
                                          ("recurrent-general", 300)])
def test_seq2seq_example_learns_to_reverse(model, steps):
    example = load_example("seq2seq_reverse.py")
    _, figures = example.train(model, steps, length=6, digits=6)
    assert figures["digit_accuracy"] >= 0.95, figures  # about 0.99 on this seed
    assert figures["string_accuracy"] >= 0.75, figures  # chance: 1 in 46,656


def test_seq2seq_example_runs_from_the_command_line(capsys):
    results = load_example("seq2seq_reverse.py").main(["--model", "transformer", "--steps", "3", "--length", "4"])
    assert set(results) == {"transformer"} and "0123 ->" in capsys.readouterr().out
