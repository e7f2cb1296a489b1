import pytest
import torch
import torch.nn.functional as F
from gymforge.networks import (
    SinusoidalPositionalEncoding,
    TransformerDecoder,
    TransformerDecoderBlock,
    TransformerEncoder,
    TransformerEncoderBlock,
)
from torch import nn

EMBED, HEADS = 16, 4


@pytest.mark.parametrize("batch, steps", [(2, 3), (3, 7)])
@pytest.mark.parametrize("causal", [False, True])
def test_encoder_block_shapes_and_gradients(batch, steps, causal, assert_all_grads):
    block = TransformerEncoderBlock(EMBED, HEADS, dropout=0.1)
    padding = torch.zeros(batch, steps, dtype=torch.bool)
    padding[0, -1] = True
    y = block(torch.randn(batch, steps, EMBED), padding, causal)
    assert y.shape == (batch, steps, EMBED)
    y.square().sum().backward()
    assert_all_grads(block)


@pytest.mark.parametrize("target_steps, source_steps", [(2, 3), (6, 4)])
def test_decoder_block_shapes_and_gradients(target_steps, source_steps, assert_all_grads):
    block = TransformerDecoderBlock(EMBED, HEADS)
    memory_padding = torch.zeros(2, source_steps, dtype=torch.bool)
    memory_padding[1, -1] = True
    y = block(torch.randn(2, target_steps, EMBED), torch.randn(2, source_steps, EMBED), None, memory_padding)
    assert y.shape == (2, target_steps, EMBED)
    y.square().sum().backward()
    assert_all_grads(block)


def test_decoder_is_causal_in_the_target_and_sees_all_the_memory():
    torch.manual_seed(0)
    decoder = TransformerDecoder(2, EMBED, HEADS).eval()
    x, memory = torch.randn(2, 6, EMBED), torch.randn(2, 5, EMBED)
    out = decoder(x, memory)
    changed = x.clone()
    changed[:, 4] += 5.0
    assert torch.allclose(decoder(changed, memory)[:, :4], out[:, :4], atol=1e-5)
    memory_changed = memory.clone()
    memory_changed[:, -1] += 5.0
    assert not torch.allclose(decoder(x, memory_changed)[:, 0], out[:, 0], atol=1e-3)


def test_stacks_end_in_a_norm_and_keep_shapes():
    encoder, decoder = TransformerEncoder(3, EMBED, HEADS), TransformerDecoder(2, EMBED, HEADS)
    memory = encoder(torch.randn(4, 5, EMBED))
    assert memory.shape == (4, 5, EMBED) and len(encoder.blocks) == 3
    assert decoder(torch.randn(4, 3, EMBED), memory).shape == (4, 3, EMBED)
    assert torch.allclose(memory.mean(-1), torch.zeros(4, 5), atol=1e-5)  # a fresh LayerNorm centres features


def test_transformer_encoder_learns_to_reverse_a_sequence():
    """Output at position t is token T-1-t: only attention by position can solve it."""
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    steps, vocab = 8, 8
    model = nn.Sequential(
        nn.Embedding(vocab, 32),
        SinusoidalPositionalEncoding(32, steps),
        TransformerEncoder(2, 32, 4),
        nn.Linear(32, vocab),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(200):  # about 100 steps reach 100%
        tokens = torch.randint(0, vocab, (64, steps), generator=generator)
        loss = F.cross_entropy(model(tokens).reshape(-1, vocab), tokens.flip(1).reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        tokens = torch.randint(0, vocab, (1000, steps), generator=generator)
        accuracy = (model(tokens).argmax(-1) == tokens.flip(1)).float().mean().item()
    assert accuracy >= 0.95
