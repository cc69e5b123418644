"""Chi-square without scipy (not a dependency): the statistic, and its exact p-value for an even
number of degrees of freedom, where the survival function has a closed form:
P(X >= x) = exp(-x/2) · Σ_{i<k} (x/2)^i / i!, with k = df / 2."""

import math
from collections.abc import Callable, Sequence


def chi_square(observed: Sequence[int], expected: Sequence[float]) -> float:
    return sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True))


def p_value_even_df(statistic: float, df: int) -> float:
    assert df % 2 == 0
    assert df > 0
    half = statistic / 2
    term, total = 1.0, 1.0
    for i in range(1, df // 2):
        term *= half / i
        total += term
    return math.exp(-half) * total


def significant_twice(p_value_of_a_fresh_sample: Callable[[], float], alpha: float = 0.001) -> bool:
    """A production-RNG test that fails a fair source one run in 1/alpha is a flaky test at that
    rate. Draw a second, independent sample only when the first falls below alpha and call the
    source biased when both do: a fair source is then blamed one run in 1/alpha², while a real bias
    large enough to fail one sample fails the second as surely."""
    return p_value_of_a_fresh_sample() < alpha and p_value_of_a_fresh_sample() < alpha
