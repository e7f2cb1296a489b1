import pytest
import torch
from gymforge.networks import ConvDecoder, ConvEncoder, conv_transpose_output_size


@pytest.mark.parametrize(
    "n, kernel, stride, padding, output_padding, expected",
    [(4, 4, 2, 1, 0, 8), (7, 4, 2, 1, 0, 14), (5, 3, 2, 1, 1, 10), (1, 4, 1, 0, 0, 4)],
)
def test_transpose_output_size_arithmetic(n, kernel, stride, padding, output_padding, expected):
    assert conv_transpose_output_size(n, kernel, stride, padding, output_padding) == expected


def test_bad_output_padding_raises():
    with pytest.raises(ValueError):
        conv_transpose_output_size(4, 3, 2, 1, 2)


@pytest.mark.parametrize("output_shape", [(1, 28, 28), (1, 32, 32), (3, 64, 64)])
def test_dcgan_generator_shapes_and_range(output_shape, assert_all_grads):
    generator = ConvDecoder.dcgan(16, output_shape, base_channels=8)
    images = generator(torch.randn(2, 16))
    assert images.shape == (2, *output_shape) and generator.output_shape == output_shape
    assert images.abs().max() <= 1.0
    images.sum().backward()
    assert_all_grads(generator)


def test_dcgan_rejects_odd_sizes():
    with pytest.raises(ValueError):
        ConvDecoder.dcgan(8, (1, 7, 7))


@pytest.mark.parametrize("input_shape", [(1, 28, 28), (3, 37, 29), (2, 10, 10), (3, 64, 64)])
@pytest.mark.parametrize("strides", [(2, 2, 1), (1, 2, 2)])
def test_mirror_reproduces_the_encoder_input_shape(input_shape, strides, assert_all_grads):
    encoder = ConvEncoder(
        input_shape, channels=(8, 16, 4), kernel_sizes=(5, 3, 3), strides=strides, paddings=(1, 0, 1)
    )
    decoder = ConvDecoder.mirror(encoder, latent_dim=6, output_activation="sigmoid")
    images = decoder(torch.randn(3, 6))
    assert images.shape == (3, *input_shape) and decoder.output_shape == input_shape
    images.sum().backward()
    assert_all_grads(decoder)


def test_mirror_refuses_pooling():
    with pytest.raises(ValueError, match="pooling"):
        ConvDecoder.mirror(ConvEncoder((1, 8, 8), (4,), pooling="max"), 4)
