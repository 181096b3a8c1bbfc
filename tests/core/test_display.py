"""The to_display contract shared by the viewer, thumbnails and embedding preprocessing."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from micview.core.imaging import to_display
from micview.core.imaging.display import CONSTANT_GRAY, fit_size, resize_longest


def test_uint8_is_kept_as_stored() -> None:
    arr = np.random.default_rng(0).integers(0, 255, (20, 30), dtype=np.uint8)
    np.testing.assert_array_equal(to_display(arr), arr)
    rgb = np.random.default_rng(1).integers(0, 255, (5, 6, 3), dtype=np.uint8)
    np.testing.assert_array_equal(to_display(rgb), rgb)


def test_uint16_percentile_stretch() -> None:
    arr = np.tile(np.arange(0, 1000, dtype=np.uint16), (10, 1))
    out = to_display(arr)
    lo, hi = np.percentile(arr, [0.5, 99.5])
    expected = np.clip((arr - lo) / (hi - lo), 0, 1) * 255
    assert out.dtype == np.uint8
    assert np.abs(out.astype(int) - np.rint(expected)).max() <= 1
    assert out.min() == 0 and out.max() == 255


def test_custom_percentiles() -> None:
    arr = np.arange(100, dtype=np.float32).reshape(10, 10)
    out = to_display(arr, low=0, high=100)
    assert out[0, 0] == 0 and out[-1, -1] == 255


def test_float_with_nan_and_inf() -> None:
    arr = np.linspace(-1, 1, 100, dtype=np.float64).reshape(10, 10)
    arr[0, 0], arr[0, 1], arr[0, 2] = np.nan, np.inf, -np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = to_display(arr)
    assert out[0, 0] == out[0, 1] == out[0, 2] == 0
    assert out[-1, -1] == 255


def test_constant_and_empty_images_do_not_divide_by_zero() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (to_display(np.full((4, 4), 7, np.uint16)) == CONSTANT_GRAY).all()
        assert (to_display(np.full((4, 4), np.nan)) == 0).all()
        assert (to_display(np.zeros((4, 4), np.float32)) == CONSTANT_GRAY).all()


def test_sparse_bright_spot_uses_full_range() -> None:
    arr = np.zeros((100, 100), np.uint16)
    arr[50, 50] = 4000  # percentiles coincide at 0: fall back to min/max
    out = to_display(arr)
    assert out[50, 50] == 255 and out[0, 0] == 0


def test_signed_and_bool() -> None:
    signed = np.array([[-100, 0, 100]], np.int32).repeat(3, axis=0)
    out = to_display(signed, low=0, high=100)
    assert list(out[0]) == [0, 128, 255]
    assert list(to_display(np.array([[True, False]]))[0]) == [255, 0]


def test_complex_uses_log_magnitude() -> None:
    arr = np.array([[1 + 0j, 10j, 100, 1000]], np.complex64).repeat(2, axis=0)
    out = to_display(arr, low=0, high=100)
    mags = np.log1p([1, 10, 100, 1000])
    expected = (mags - mags[0]) / (mags[-1] - mags[0]) * 255
    assert np.abs(out[0].astype(int) - np.rint(expected)).max() <= 1


def test_rgb16_shares_one_stretch_and_alpha_goes_on_white() -> None:
    rgba = np.zeros((2, 2, 4), np.uint16)
    rgba[..., 0] = 60000
    rgba[..., 1] = 30000
    rgba[0, :, 3] = 65535
    out = to_display(rgba, low=0, high=100)
    assert out.shape == (2, 2, 3)
    assert tuple(out[0, 0]) == (255, 128, 0)
    assert tuple(out[1, 0]) == (255, 255, 255)  # fully transparent row


def test_gray_alpha_and_single_channel() -> None:
    la = np.zeros((2, 2, 2), np.uint8)
    la[..., 1] = 255
    assert to_display(la).shape == (2, 2)
    assert to_display(np.zeros((3, 4, 1), np.uint8)).shape == (3, 4)


def test_deterministic_on_big_arrays() -> None:
    arr = np.random.default_rng(2).normal(size=(2000, 1500)).astype(np.float32)
    np.testing.assert_array_equal(to_display(arr), to_display(arr.copy()))


def test_wrong_shape() -> None:
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        to_display(np.zeros(5))


def test_fit_and_resize() -> None:
    assert fit_size(8000, 6000, 256) == (256, 192)
    assert fit_size(10, 13, 256) == (10, 13)
    assert fit_size(5000, 1, 256) == (256, 1)
    assert fit_size(30, 20, None) == (30, 20)
    assert resize_longest(np.zeros((600, 300, 3), np.uint8), 100).shape == (100, 50, 3)
