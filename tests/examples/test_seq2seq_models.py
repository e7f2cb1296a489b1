"""The seq2seq models of examples/seq2seq/ (examples, not part of gymforge): shapes, gradients, padding, decoding."""

import pytest
import torch

from tests.helpers import load_example

RecurrentSeq2Seq = load_example("seq2seq/recurrent.py").RecurrentSeq2Seq
TransformerSeq2Seq = load_example("seq2seq/transformer.py").TransformerSeq2Seq

SOURCE_VOCAB, TARGET_VOCAB = 7, 9


def _models():
    return {
        "transformer": lambda: TransformerSeq2Seq(SOURCE_VOCAB, TARGET_VOCAB, embed_dim=16, num_heads=2),
        "gru-additive": lambda: RecurrentSeq2Seq(SOURCE_VOCAB, TARGET_VOCAB, 8, 16, "gru", "additive"),
        "lstm-general": lambda: RecurrentSeq2Seq(SOURCE_VOCAB, TARGET_VOCAB, 8, 16, "lstm", "general"),
        "lstm-dot-unidirectional": lambda: RecurrentSeq2Seq(
            SOURCE_VOCAB, TARGET_VOCAB, 8, 16, "lstm", "dot", bidirectional_encoder=False
        ),
    }


@pytest.mark.parametrize("name", list(_models()))
@pytest.mark.parametrize("source_steps, target_steps", [(2, 3), (6, 4)])
def test_shapes_and_gradients(name, source_steps, target_steps):
    torch.manual_seed(0)
    model = _models()[name]()
    source = torch.randint(0, SOURCE_VOCAB, (3, source_steps))
    target_in = torch.randint(0, TARGET_VOCAB, (3, target_steps))
    padding = torch.zeros(3, source_steps, dtype=torch.bool)
    padding[0, -1] = True
    logits = model(source, target_in, padding)
    assert logits.shape == (3, target_steps, TARGET_VOCAB)
    logits.square().sum().backward()
    for parameter_name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, f"no gradient reached {parameter_name}"
    assert model.generate(source, 0, 5, padding).shape == (3, 5)


@pytest.mark.parametrize("name", list(_models()))
def test_padded_source_tokens_change_nothing(name):
    torch.manual_seed(0)
    model = _models()[name]().eval()
    source = torch.randint(1, SOURCE_VOCAB, (2, 5))
    padding = torch.tensor([[False] * 3 + [True] * 2, [False] * 5])
    target_in = torch.randint(0, TARGET_VOCAB, (2, 4))
    changed = source.clone()
    changed[0, 3:] = 0
    assert torch.allclose(model(source, target_in, padding), model(changed, target_in, padding), atol=1e-5)


@pytest.mark.parametrize("name", list(_models()))
def test_greedy_generation_agrees_with_teacher_forcing(name):
    torch.manual_seed(0)
    model = _models()[name]().eval()
    source = torch.randint(0, SOURCE_VOCAB, (3, 4))
    generated = model.generate(source, start_token=0, length=5)
    target_in = torch.cat([torch.zeros(3, 1, dtype=torch.long), generated[:, :-1]], dim=1)
    assert torch.equal(model(source, target_in).argmax(-1), generated)


def test_unknown_attention():
    with pytest.raises(ValueError, match="additive"):
        RecurrentSeq2Seq(3, 3, attention="cosine")
