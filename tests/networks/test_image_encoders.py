import pytest
import torch
from gymforge.networks import NatureCNN, SmallCNN


def test_nature_cnn_geometry_and_uint8_scaling(assert_all_grads):
    encoder = NatureCNN((4, 84, 84), features_dim=512)
    assert encoder.convs.output_shape == (64, 7, 7)
    frames = torch.randint(0, 256, (2, 4, 84, 84), dtype=torch.uint8)
    features = encoder(frames)
    assert features.shape == (2, 512)
    unscaled = NatureCNN((4, 84, 84), scale=False)
    unscaled.load_state_dict(encoder.state_dict())
    assert torch.allclose(features, unscaled(frames.float() / 255.0), atol=1e-6)
    features.sum().backward()
    assert_all_grads(encoder)


@pytest.mark.parametrize("input_shape", [(1, 10, 10), (3, 16, 16), (2, 21, 15), (3, 32, 32)])
@pytest.mark.parametrize("channels", [(8,), (16, 32), (8, 16, 16)])
def test_small_cnn_over_tiny_images(input_shape, channels, assert_all_grads):
    encoder = SmallCNN(input_shape, features_dim=32, channels=channels)
    features = encoder(torch.randn(3, *input_shape))
    assert features.shape == (3, 32)
    features.sum().backward()
    assert_all_grads(encoder)
