"""Checks that collect every problem and raise once, listing them all."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ._errors import ConfigError, ParscGeoError


@dataclass
class ProblemCollector:
    """Collect problems, then raise one error that lists them all.

    Examples
    --------
    >>> problems = ProblemCollector("reading config.toml")
    >>> problems.add("cell_size must be positive, got -5")
    >>> problems.raise_if_any()  # doctest: +SKIP
    """

    context: str
    problems: list[str] = field(default_factory=list)

    def add(self, problem: str) -> None:
        """Record one problem."""
        self.problems.append(problem)

    def extend(self, problems: Iterable[str]) -> None:
        """Record several problems."""
        self.problems.extend(problems)

    def raise_if_any(
        self, error: type[ParscGeoError] = ConfigError, *, hint: str | None = None
    ) -> None:
        """Raise ``error`` listing every recorded problem, if there is any."""
        if not self.problems:
            return
        n = len(self.problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        raise error(f"{n} problema{'s' if n != 1 else ''} {self.context}:\n{lines}", hint=hint)


def check_positive(name: str, value: float | None, *, allow_none: bool = True) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a positive number (or ``None``)."""
    if value is None and allow_none:
        return
    if value is None or not value > 0:
        raise ConfigError(f"{name} debe ser un número positivo; se recibió {value!r}")


def check_choice(name: str, value: str, choices: Iterable[str]) -> None:
    """Raise :class:`ConfigError` unless ``value`` is one of ``choices``."""
    options = list(choices)
    if value not in options:
        raise ConfigError(
            f"{name} debe ser uno de {', '.join(map(repr, options))}; se recibió {value!r}"
        )
