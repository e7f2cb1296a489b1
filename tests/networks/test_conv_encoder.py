import pytest
import torch
from gymforge.networks import ConvEncoder, conv_output_size


@pytest.mark.parametrize(
    "n, kernel, stride, padding, expected",
    [
        (84, 8, 4, 0, 20),
        (20, 4, 2, 0, 9),
        (9, 3, 1, 0, 7),
        (32, 3, 1, 1, 32),
        (10, 3, 2, 1, 5),
        (7, 2, 2, 0, 3),
    ],
)
def test_conv_output_size_arithmetic(n, kernel, stride, padding, expected):
    assert conv_output_size(n, kernel, stride, padding) == expected


@pytest.mark.parametrize(
    "n, kernel, stride, padding", [(3, 5, 1, 0), (8, 0, 1, 0), (8, 3, 0, 0), (8, 3, 1, -1)]
)
def test_impossible_geometry_raises(n, kernel, stride, padding):
    with pytest.raises(ValueError):
        conv_output_size(n, kernel, stride, padding)


@pytest.mark.parametrize("input_shape", [(1, 10, 10), (3, 17, 23), (2, 32, 32)])
@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("pooling", [None, "max", "avg"])
def test_output_dim_matches_a_real_forward_and_gradients_flow(
    input_shape, batch_norm, pooling, assert_all_grads
):
    encoder = ConvEncoder(
        input_shape,
        channels=(4, 8),
        kernel_sizes=(3, 3),
        strides=(1, 1),
        paddings=(1, 0),
        batch_norm=batch_norm,
        pooling=pooling,
    )
    maps = encoder.feature_maps(torch.randn(2, *input_shape))
    assert tuple(maps.shape[1:]) == encoder.output_shape
    features = encoder(torch.randn(3, *input_shape))
    assert features.shape == (3, encoder.output_dim)
    features.square().mean().backward()
    assert_all_grads(encoder)


def test_leading_dims_and_uint8_with_scale():
    encoder = ConvEncoder((2, 12, 12), channels=(4,), kernel_sizes=3, scale=True)
    images = torch.randint(0, 256, (5, 3, 2, 12, 12), dtype=torch.uint8)
    features = encoder(images)
    assert features.shape == (5, 3, encoder.output_dim)
    assert torch.allclose(features, encoder(images.float() / 255.0 * 255.0))


def test_bad_configs_raise_value_error():
    with pytest.raises(ValueError, match="max"):
        ConvEncoder((1, 8, 8), channels=(4,), pooling="median")
    with pytest.raises(ValueError):
        ConvEncoder((1, 8, 8), channels=(4, 4), kernel_sizes=(3,))
    with pytest.raises(ValueError):
        ConvEncoder((1, 4, 4), channels=(4, 4, 4), kernel_sizes=3)  # 4 -> 2 -> 0
