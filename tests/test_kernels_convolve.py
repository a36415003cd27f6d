"""The density's FFT convolution is scipy.signal.fftconvolve's 'valid' mode, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import fftconvolve

from parsc_geo._kernels import convolve_valid, discrete_kernel, get_kernel


@pytest.mark.parametrize(
    ("shape", "half"),
    [((3, 3), 1), ((7, 40), 3), ((131, 97), 12), ((64, 64), 31), ((257, 509), 20)],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_convolve_valid_equals_scipy_fftconvolve(shape, half, seed):
    rng = np.random.default_rng(seed)
    image = rng.gamma(0.3, size=shape) * (rng.random(shape) < 0.2)
    kernel = rng.random((2 * half + 1, 2 * half + 1))
    expected = fftconvolve(image, kernel, mode="valid")
    got = convolve_valid(image, kernel)
    assert got.shape == expected.shape == (shape[0] - 2 * half, shape[1] - 2 * half)
    assert got.flags.c_contiguous and got.flags.owndata
    np.testing.assert_array_equal(got, expected)


def test_convolve_valid_with_a_density_kernel_equals_direct_sum():
    # the sampled quartic kernel of 250 m on 50 m cells, against the sum written out
    kernel = discrete_kernel(get_kernel("quartic"), 250.0, 50.0)
    rng = np.random.default_rng(7)
    image = rng.poisson(0.5, size=(30, 45)).astype(np.float64)
    k = kernel.shape[0]
    direct = np.array(
        [
            [np.sum(image[i : i + k, j : j + k] * kernel[::-1, ::-1]) for j in range(45 - k + 1)]
            for i in range(30 - k + 1)
        ]
    )
    np.testing.assert_allclose(convolve_valid(image, kernel), direct, rtol=1e-12, atol=1e-12)
