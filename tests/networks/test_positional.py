import math

import pytest
import torch
from gymforge.networks import (
    LearnedPositionalEncoding,
    SinusoidalPositionalEncoding,
    make_positional_encoding,
)


@pytest.mark.parametrize("embed_dim", [4, 7, 16])
def test_sinusoidal_values(embed_dim):
    encoding = SinusoidalPositionalEncoding(embed_dim, max_len=50)
    table = encoding(torch.zeros(1, 50, embed_dim))[0]
    for position in (0, 3, 49):
        for i in range(embed_dim):
            angle = position / 10000 ** (2 * (i // 2) / embed_dim)
            expected = math.sin(angle) if i % 2 == 0 else math.cos(angle)
            assert table[position, i].item() == pytest.approx(expected, abs=1e-5)
    assert list(encoding.parameters()) == []


def test_offset_continues_the_positions():
    encoding = SinusoidalPositionalEncoding(8, max_len=20)
    whole = encoding(torch.zeros(2, 10, 8))
    assert torch.equal(encoding(torch.zeros(2, 4, 8), offset=6), whole[:, 6:])


@pytest.mark.parametrize("name", ["sinusoidal", "learned"])
@pytest.mark.parametrize("steps", [1, 5, 12])
def test_shapes_and_too_long_sequences(name, steps):
    encoding = make_positional_encoding(name, 6, max_len=12)
    x = torch.randn(3, steps, 6)
    assert encoding(x).shape == x.shape
    with pytest.raises(ValueError):
        encoding(torch.randn(1, 13, 6))


def test_learned_encoding_gets_gradients_where_used(assert_all_grads):
    encoding = LearnedPositionalEncoding(4, max_len=3)
    encoding(torch.zeros(2, 3, 4)).square().sum().backward()
    assert_all_grads(encoding)


def test_unknown_encoding():
    with pytest.raises(ValueError, match="learned"):
        make_positional_encoding("rotary", 4, 10)
