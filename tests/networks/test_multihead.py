import pytest
import torch
from gymforge.networks import MultiHeadAttention, causal_mask, scaled_dot_product_attention
from torch import nn

EMBED, HEADS = 16, 4


def _pair(key_dim=None, value_dim=None, bias=True):
    """Our attention and torch's, holding the same weights."""
    torch.manual_seed(0)
    reference = nn.MultiheadAttention(EMBED, HEADS, bias=bias, batch_first=True, kdim=key_dim, vdim=value_dim)
    ours = MultiHeadAttention(EMBED, HEADS, bias=bias, key_dim=key_dim, value_dim=value_dim)
    with torch.no_grad():
        if key_dim is None and value_dim is None:
            weights = reference.in_proj_weight.chunk(3)
        else:
            weights = (reference.q_proj_weight, reference.k_proj_weight, reference.v_proj_weight)
        for projection, weight in zip((ours.query_proj, ours.key_proj, ours.value_proj), weights):
            projection.weight.copy_(weight)
        ours.out_proj.weight.copy_(reference.out_proj.weight)
        if bias:
            for projection, b in zip(
                (ours.query_proj, ours.key_proj, ours.value_proj), reference.in_proj_bias.chunk(3)
            ):
                projection.bias.copy_(b)
            ours.out_proj.bias.copy_(reference.out_proj.bias)
    return ours.eval(), reference.eval()


def _padding(batch, length):
    mask = torch.zeros(batch, length, dtype=torch.bool)
    mask[0, -2:] = True  # the first sequence has two padding steps
    mask[-1, -1] = True
    return mask


@pytest.mark.parametrize("need_weights", [False, True])
@pytest.mark.parametrize("masks", ["none", "padding", "causal", "causal+padding", "float", "bool_per_head"])
@pytest.mark.parametrize("bias", [True, False])
def test_self_attention_matches_torch(need_weights, masks, bias):
    ours, reference = _pair(bias=bias)
    batch, steps = 3, 6
    x = torch.randn(batch, steps, EMBED)
    padding = _padding(batch, steps) if "padding" in masks else None
    causal = "causal" in masks
    ours_mask = torch_mask = causal_mask(steps) if causal else None
    if masks == "float":
        ours_mask = torch_mask = torch.randn(steps, steps)
    if masks == "bool_per_head":
        ours_mask = torch_mask = torch.rand(batch * HEADS, steps, steps) < 0.3
        ours_mask[..., 0] = False  # never block a whole row
    expected, expected_weights = reference(
        x, x, x, key_padding_mask=padding, attn_mask=torch_mask, need_weights=need_weights
    )
    if causal:  # ours takes the flag instead of a mask
        got, weights = ours(x, key_padding_mask=padding, causal=True, need_weights=need_weights)
    else:
        got, weights = ours(x, key_padding_mask=padding, attn_mask=ours_mask, need_weights=need_weights)
    assert torch.allclose(got, expected, atol=1e-5)
    if need_weights:
        assert weights.shape == (batch, HEADS, steps, steps)
        assert torch.allclose(weights.mean(1), expected_weights, atol=1e-6)  # torch averages the heads


@pytest.mark.parametrize("padding", [False, True])
def test_cross_attention_with_other_key_and_value_widths_matches_torch(padding):
    ours, reference = _pair(key_dim=10, value_dim=7, bias=False)
    query, key, value = torch.randn(3, 4, EMBED), torch.randn(3, 6, 10), torch.randn(3, 6, 7)
    mask = _padding(3, 6) if padding else None
    expected, _ = reference(query, key, value, key_padding_mask=mask)
    got, _ = ours(query, key, value, key_padding_mask=mask)
    assert got.shape == (3, 4, EMBED)
    assert torch.allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize("need_weights", [False, True])
def test_causal_mask_hides_the_future(need_weights):
    ours, _ = _pair()
    x = torch.randn(2, 8, EMBED)
    out, _ = ours(x, causal=True, need_weights=need_weights)
    changed = x.clone()
    changed[:, 5] += 10 * torch.randn(2, EMBED)  # perturb position 5
    out_changed, _ = ours(changed, causal=True, need_weights=need_weights)
    assert torch.allclose(out[:, :5], out_changed[:, :5], atol=1e-6)  # the past cannot see it
    assert not torch.allclose(out[:, 5:], out_changed[:, 5:], atol=1e-3)


def test_padded_keys_get_no_weight_and_do_not_matter():
    ours, _ = _pair()
    x, padding = torch.randn(3, 6, EMBED), _padding(3, 6)
    out, weights = ours(x, key_padding_mask=padding, need_weights=True)
    assert torch.all(weights[0, :, :, -2:] == 0)
    changed = x.clone()
    changed[0, -2:] = torch.randn(2, EMBED)
    out_changed, _ = ours(changed, key_padding_mask=padding)
    assert torch.allclose(out[0, :4], out_changed[0, :4], atol=1e-6)


def test_scaled_dot_product_attention_by_hand():
    query = torch.tensor([[[1.0, 0.0]]])  # (1, Tq=1, d=2)
    key = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])  # (1, Tk=2, d=2)
    value = torch.tensor([[[10.0], [20.0]]])
    out, weights = scaled_dot_product_attention(query, key, value)
    first = torch.sigmoid(torch.tensor(1 / 2**0.5))  # softmax over scores (1/sqrt(2), 0)
    assert torch.allclose(weights, torch.stack([first, 1 - first]).view(1, 1, 2))
    assert torch.allclose(out, (10 * first + 20 * (1 - first)).view(1, 1, 1))


@pytest.mark.parametrize("batch, steps", [(1, 2), (2, 5), (4, 9)])  # one key: softmax has no gradient
def test_shapes_and_gradients(batch, steps, assert_all_grads):
    attention = MultiHeadAttention(EMBED, HEADS, dropout=0.1)
    out, _ = attention(torch.randn(batch, steps, EMBED), causal=True)
    assert out.shape == (batch, steps, EMBED)
    out.square().sum().backward()
    assert_all_grads(attention)


def test_heads_must_divide_the_width():
    with pytest.raises(ValueError):
        MultiHeadAttention(10, 3)
