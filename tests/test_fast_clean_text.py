"""``clean_text`` strips as Python's ``str.strip`` does, on every code point (its numpy path)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parsc_geo import _fast


def _python(values: list[object]) -> list[str]:
    return ["" if v is None or v != v else str(v).strip() for v in values]


def _every_code_point() -> list[str]:
    points = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    # each character alone, around a word, and twice on each side of one
    return (
        [f"{chr(c)}a{chr(c)}" for c in points]
        + [chr(c) for c in points[:5000]]
        + [f"{chr(c)}{chr(c)}x y{chr(c)}{chr(c)}" for c in points[:70000:7]]
    )


@pytest.mark.skipif(not hasattr(np.dtypes, "StringDType"), reason="numpy < 2.0")
def test_numpy_path_strips_every_code_point_as_python_does() -> None:
    values = _every_code_point()
    series = pd.Series(values, dtype=object)
    assert _fast._strip_texts(series) is not None  # the numpy path ran
    got = _fast.clean_text(series)
    assert got.dtype == object
    assert got.tolist() == _python(values)
    # NUL, which numpy would strip, is kept as Python keeps it
    assert got[0] == "\x00a\x00"


def test_missing_values_and_numbers_take_the_value_by_value_path() -> None:
    values: list[object] = [f" id{i} " for i in range(3000)] + [None, float("nan"), 7, " 8 "]
    series = pd.Series(values, dtype=object)
    assert _fast._strip_texts(series) is None
    assert _fast.clean_text(series).tolist() == _python(values)


def test_the_index_is_kept_for_few_and_many_values() -> None:
    series = pd.Series([" a", "b ", " a"], index=[10, 20, 30], dtype=object)
    got = _fast.clean_text(series)
    assert got.tolist() == ["a", "b", "a"]
    assert got.index.tolist() == [10, 20, 30]
    many = pd.Series([f"\t{i}\u2003" for i in range(2000)], index=range(5, 2005), dtype=object)
    got = _fast.clean_text(many)
    assert got.tolist() == [str(i) for i in range(2000)]
    assert got.index.tolist() == list(range(5, 2005))


def test_a_lone_surrogate_is_left_to_the_value_by_value_path() -> None:
    # JSON text may hold "\ud800": a str that UTF-8 (numpy's strings) cannot hold; the
    # readers never give one (GDAL, XML and the CSV codecs replace or reject it)
    values = [f" id{i} " for i in range(3000)] + [" \ud800x\udc80 "]
    assert _fast._strip_texts(pd.Series(values, dtype=object)) is None
