import pytest
import torch
from gymforge.networks import ResidualBlock, conv_output_size


@pytest.mark.parametrize(
    "in_channels, out_channels, stride", [(8, None, 1), (8, 16, 1), (4, 8, 2), (6, 6, 2)]
)
@pytest.mark.parametrize("size", [5, 12])
@pytest.mark.parametrize("batch_norm", [True, False])
def test_shapes_and_gradients(in_channels, out_channels, stride, size, batch_norm, assert_all_grads):
    block = ResidualBlock(in_channels, out_channels, stride=stride, batch_norm=batch_norm)
    y = block(torch.randn(2, in_channels, size, size))
    side = conv_output_size(size, 3, stride, 1)
    assert y.shape == (2, out_channels or in_channels, side, side)
    y.square().sum().backward()
    assert_all_grads(block)


def test_identity_when_the_body_is_zero():
    block = ResidualBlock(4)
    torch.nn.init.zeros_(block.body[-1].weight)
    torch.nn.init.zeros_(block.body[-1].bias)
    x = torch.randn(2, 4, 6, 6)
    assert torch.equal(block(x), x)
