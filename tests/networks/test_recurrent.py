import itertools

import pytest
import torch
import torch.nn.functional as F
from gymforge.networks import RecurrentCore
from torch import nn


def _random_state(core, batch):
    state = core.initial_state(batch)
    return tuple(torch.randn_like(s) for s in state) if isinstance(state, tuple) else torch.randn_like(state)


def _column(state, b):
    return tuple(s[:, b : b + 1] for s in state) if isinstance(state, tuple) else state[:, b : b + 1]


def _flat(state):
    return state if isinstance(state, tuple) else (state,)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("steps, batch, features", [(1, 1, 3), (6, 4, 2), (9, 2, 5)])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_shapes_and_gradients(kind, bidirectional, steps, batch, features, num_layers, assert_all_grads):
    core = RecurrentCore(kind, features, 8, num_layers=num_layers, bidirectional=bidirectional)
    starts = torch.zeros(steps, batch)
    starts[steps // 2, 0] = steps > 1  # a length-1 sequence that starts an episode never uses weight_hh
    out, state = core(torch.randn(steps, batch, features), _random_state(core, batch), starts)
    assert out.shape == (steps, batch, core.output_dim) and core.output_dim == 8 * (2 if bidirectional else 1)
    for s, expected in zip(_flat(state), _flat(core.initial_state(batch))):
        assert s.shape == expected.shape
    (out.square().sum() + sum(s.square().sum() for s in _flat(state))).backward()
    assert_all_grads(core)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_reset_equals_running_the_episode_segments_separately(kind, bidirectional):
    torch.manual_seed(0)
    core = RecurrentCore(kind, 3, 5, num_layers=2, bidirectional=bidirectional)
    steps, batch = 8, 4
    x, state = torch.randn(steps, batch, 3), _random_state(core, batch)
    starts = torch.zeros(steps, batch, dtype=torch.bool)
    starts[3, 0] = starts[0, 1] = starts[5, 1] = starts[1, 2] = starts[2, 2] = starts[7, 2] = (
        True  # column 3: none
    )
    out, new_state = core(x, state, starts)

    for b in range(batch):
        cuts = [0, *[t for t in range(1, steps) if starts[t, b]], steps]
        for index, (begin, end) in enumerate(itertools.pairwise(cuts)):
            entering = _column(state, b) if index == 0 and not starts[0, b] else None  # None: zeros
            expected_out, expected_state = core.rnn(x[begin:end, b : b + 1], entering)
            assert torch.allclose(out[begin:end, b : b + 1], expected_out, atol=1e-6), (b, begin)
        for got, expected in zip(_flat(_column(new_state, b)), _flat(expected_state)):
            assert torch.allclose(got, expected, atol=1e-6), b


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_reset_zeroes_exactly_at_the_start(kind):
    """A start at step t makes everything from t on independent of inputs and state before t."""
    torch.manual_seed(1)
    core = RecurrentCore(kind, 2, 4)
    x, starts = torch.randn(6, 1, 2), torch.zeros(6, 1)
    starts[4] = 1
    out, _ = core(x, _random_state(core, 1), starts)
    changed = x.clone()
    changed[:4] = torch.randn(4, 1, 2)
    out_changed, _ = core(changed, _random_state(core, 1), starts)
    assert torch.allclose(out[4:], out_changed[4:], atol=1e-6)
    assert not torch.allclose(out[3], out_changed[3])


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_state_carries_across_chunks_and_step_by_step(kind):
    torch.manual_seed(2)
    core = RecurrentCore(kind, 3, 6)
    x, starts = torch.randn(10, 2, 3), torch.zeros(10, 2)
    starts[6, 1] = 1
    whole, whole_state = core(x, None, starts)
    first, state = core(x[:5], None, starts[:5])
    second, state = core(x[5:], state, starts[5:])
    assert torch.allclose(whole, torch.cat([first, second]), atol=1e-6)
    state, outputs = core.initial_state(2), []
    for t in range(10):
        step_out, state = core(x[t], state, starts[t])  # single steps: (B, F) -> (B, H)
        outputs.append(step_out)
    assert torch.allclose(whole, torch.stack(outputs), atol=1e-6)
    for got, expected in zip(_flat(state), _flat(whole_state)):
        assert torch.allclose(got, expected, atol=1e-6)


def test_start_at_step_zero_uses_the_fast_path_and_zeroes_the_given_state():
    torch.manual_seed(3)
    core = RecurrentCore("lstm", 2, 3)
    x, state = torch.randn(4, 2, 2), _random_state(core, 2)
    starts = torch.tensor([[1.0, 0.0], [0, 0], [0, 0], [0, 0]])
    out, _ = core(x, state, starts)
    assert torch.allclose(out[:, :1], core.rnn(x[:, :1])[0], atol=1e-6)
    assert torch.allclose(out[:, 1:], core.rnn(x[:, 1:], _column(state, 1))[0], atol=1e-6)


def test_unknown_kind_lists_the_choices():
    with pytest.raises(ValueError, match="gru"):
        RecurrentCore("rnn", 2, 3)


def _train_sequence_task(core, make_batch, vocab, steps, lr=1e-2):
    """Train core + linear readout with cross-entropy on positions `targets` select; return test accuracy."""
    head = nn.Linear(core.output_dim, vocab)
    optimizer = torch.optim.Adam([*core.parameters(), *head.parameters()], lr=lr)
    for _ in range(steps):
        inputs, targets, positions = make_batch(64)
        logits = head(core(inputs)[0][positions])  # (T', B, vocab)
        loss = F.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        inputs, targets, positions = make_batch(1000)
        return (head(core(inputs)[0][positions]).argmax(-1) == targets).float().mean().item()


def test_lstm_learns_to_reverse_a_sequence():
    """Read 5 tokens, then during 5 blank steps emit them in reverse: needs memory, not just the input."""
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    length, vocab = 5, 4

    def make_batch(batch):
        tokens = torch.randint(0, vocab, (length, batch), generator=generator)
        blanks = torch.full((length, batch), vocab)
        inputs = F.one_hot(torch.cat([tokens, blanks]), vocab + 1).float()  # (2L, B, vocab + 1)
        return inputs, tokens.flip(0), slice(length, 2 * length)

    core = RecurrentCore("lstm", vocab + 1, 64)
    assert _train_sequence_task(core, make_batch, vocab, steps=600) >= 0.95  # reaches 1.0 by ~500 steps


def test_bidirectional_lstm_beats_unidirectional_when_the_answer_lies_ahead():
    """Target at t is x[t + 2]: a forward-only LSTM can only guess (1/6), a bidirectional one can see it."""
    generator = torch.Generator().manual_seed(1)
    steps, vocab, lookahead = 12, 6, 2

    def make_batch(batch):
        tokens = torch.randint(0, vocab, (steps, batch), generator=generator)
        return F.one_hot(tokens, vocab).float(), tokens[lookahead:], slice(0, steps - lookahead)

    torch.manual_seed(0)
    forward_only = _train_sequence_task(RecurrentCore("lstm", vocab, 32), make_batch, vocab, steps=250)
    torch.manual_seed(0)
    both_ways = _train_sequence_task(
        RecurrentCore("lstm", vocab, 32, bidirectional=True), make_batch, vocab, 250
    )
    assert both_ways >= 0.95
    assert forward_only < 0.3
