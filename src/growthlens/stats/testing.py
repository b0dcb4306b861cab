"""What the tests and intervals share: the result of a test, the check of a confidence level."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class TestResult:
    """A test's statistic, degrees of freedom and two-sided p-value (NaN when undefined).

    Attributes:
        statistic: the test statistic.
        dof: its degrees of freedom.
        p_value: the probability of a statistic at least this extreme under the null.
    """

    __test__ = False  # a result, not a pytest test class

    statistic: float
    dof: float
    p_value: float

    @property
    def defined(self) -> bool:
        """Whether there was anything to test (the p-value is a number)."""
        return not math.isnan(self.p_value)


def check_confidence(confidence: float) -> float:
    """A two-sided confidence level strictly between 0 and 1, or a ValueError."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1); got {confidence}")
    return confidence
