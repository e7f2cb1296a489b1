import pytest
from gymforge.networks import interpolate


def test_interpolate_hits_its_documented_values():
    assert interpolate(1.0, 0.05, 0.0) == 1.0
    assert interpolate(1.0, 0.05, 0.5) == pytest.approx(0.525)
    assert interpolate(1.0, 0.05, 2.0) == pytest.approx(0.05)  # the fraction is clipped
    assert interpolate(1.0, 0.01, 0.5, "exponential") == pytest.approx(0.1)
    assert interpolate(1.0, 0.01, 0.5, "constant") == 1.0
    with pytest.raises(ValueError, match="constant, linear or exponential"):
        interpolate(1.0, 0.0, 0.5, "cosine")  # type: ignore[arg-type]
