import math

import pytest
import torch
from gymforge.networks import AdditiveAttention, MultiplicativeAttention


def _attentions():
    return [
        AdditiveAttention(6, 5, 8),
        MultiplicativeAttention(6, 5, "general"),
        MultiplicativeAttention(5, 5, "dot", scaled=True),
    ]


@pytest.mark.parametrize("index", [0, 1, 2])
@pytest.mark.parametrize("query_steps", [None, 1, 4])
@pytest.mark.parametrize("key_steps", [2, 7])  # one key: softmax has no gradient
def test_shapes_weights_sum_to_one_and_gradients(index, query_steps, key_steps, assert_all_grads):
    attention = _attentions()[index]
    query_dim = 5 if index == 2 else 6
    query_shape = (3, query_dim) if query_steps is None else (3, query_steps, query_dim)
    keys, values = torch.randn(3, key_steps, 5), torch.randn(3, key_steps, 2)
    context, weights = attention(torch.randn(query_shape), keys, values)
    leading = (3,) if query_steps is None else (3, query_steps)
    assert context.shape == (*leading, 2) and weights.shape == (*leading, key_steps)
    assert torch.allclose(weights.sum(-1), torch.ones(leading))
    if index != 2:  # Luong "dot" has no parameters
        context.square().sum().backward()
        assert_all_grads(attention)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_padding_gets_zero_weight(index):
    attention = _attentions()[index]
    query = torch.randn(2, 5 if index == 2 else 6)
    keys = torch.randn(2, 4, 5)
    padding = torch.tensor([[False, False, True, True], [False, False, False, True]])
    context, weights = attention(query, keys, key_padding_mask=padding)
    assert torch.all(weights[padding] == 0)
    keys_changed = keys.clone()
    keys_changed[padding] = 100.0
    assert torch.allclose(attention(query, keys_changed, key_padding_mask=padding)[0], context, atol=1e-6)


def test_luong_dot_by_hand():
    attention = MultiplicativeAttention(2, 2, "dot")
    keys = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    context, weights = attention(torch.tensor([[math.log(3.0), 0.0]]), keys)
    assert torch.allclose(weights, torch.tensor([[0.75, 0.25]]))  # softmax(log 3, 0)
    assert torch.allclose(context, torch.tensor([[0.75, 0.25]]))


def test_bahdanau_by_hand():
    attention = AdditiveAttention(1, 1, 1)
    with torch.no_grad():
        attention.query_proj.weight.fill_(1.0)
        attention.key_proj.weight.fill_(1.0)
        attention.key_proj.bias.zero_()
        attention.score_proj.weight.fill_(2.0)
    keys = torch.tensor([[[0.0], [1.0]]])
    _, weights = attention(torch.tensor([[0.5]]), keys)
    scores = 2 * torch.tanh(torch.tensor([0.5, 1.5]))
    assert torch.allclose(weights, torch.softmax(scores, 0).unsqueeze(0))


def test_bad_arguments():
    with pytest.raises(ValueError, match="general"):
        MultiplicativeAttention(4, 4, "cosine")
    with pytest.raises(ValueError):
        MultiplicativeAttention(4, 3, "dot")
