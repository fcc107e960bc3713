"""The plain histogram: a value on a bound counts in that bound's bucket (Prometheus's `le`),
one above every bound in +Inf; read cumulatively, as a scrape shows it."""

from __future__ import annotations

import pytest

from voltgate.histogram import Histogram
from voltgate.metrics.requests import cumulative


def test_values_land_in_the_first_bucket_they_fit_and_read_cumulatively() -> None:
    histogram = Histogram((0.1, 1.0))
    for value in (0.05, 0.1, 0.5, 1.0, 7.0):
        histogram.observe(value)
    assert histogram.counts == [2, 2, 1]
    assert histogram.count == 5 and histogram.sum == pytest.approx(8.65)
    assert cumulative(histogram) == [("0.1", 2.0), ("1.0", 4.0), ("+Inf", 5.0)]
