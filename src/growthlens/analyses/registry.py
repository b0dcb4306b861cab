"""The analysis registry: each analysis declared once, run in three stages.

An analysis is one :class:`Analysis` record, registered with :func:`register` beside the
public function that runs it:

- ``name``, ``title``, the report ``group`` it belongs to and the canonical tables it
  ``needs``;
- ``params(ds, **options)``: every option of the public function (its defaults applied),
  resolved against the dataset's settings and checked (a
  :class:`~growthlens.errors.ConfigError` names a bad one); the public function's
  keyword-only signature is the list of options and holds the defaults;
- ``compute(ds, params)``: engine → small pandas frames (through :mod:`growthlens.metrics`
  and the derived tables), nothing else touches the engine;
- ``infer(frames, params)``: pure statistics on those frames (intervals, tests, models;
  :mod:`growthlens.stats`), never the engine; :func:`no_inference` when there is none;
- ``explain(estimates, params)``: findings, wording and chart specs → the
  :class:`~growthlens.result.Result`;
- ``plan(ds)``: which runs the report shows on this dataset (options of each) and, for
  what it leaves out, the reason in words.

The report, the JSON export, the CLI's section list and the docs iterate :data:`REGISTRY`;
adding an analysis is adding one module (docs/architecture.md, "How to add an analysis").
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, is_dataclass, replace
from typing import Any, Generic, TypeVar

from growthlens.data.dataset import Dataset
from growthlens.errors import ConfigError
from growthlens.result import Result

P = TypeVar("P")
F = TypeVar("F")
E = TypeVar("E")

GROUPS: tuple[str, ...] = (
    "overview",
    "quality",
    "product",
    "funnels",
    "sales",
    "marketing",
    "attribution",
    "experiments",
    "customers",
    "recommendation",
)
"""Report groups an analysis may belong to (the report's layout gives each its title)."""


@dataclass(frozen=True)
class Plan:
    """What the report shows of one analysis on one dataset.

    Attributes:
        runs: the options of each run, in order (``({},)``: once, with the defaults).
        skipped: what is left out and why, in words (shown under the report group).
    """

    runs: tuple[Mapping[str, Any], ...] = ({},)
    skipped: tuple[str, ...] = ()


def run_once(ds: Dataset) -> Plan:
    """The default plan: one run with the dataset's defaults."""
    return Plan()


def no_inference(frames: F, params: Any) -> F:
    """The infer stage of an analysis that estimates nothing: the frames pass through."""
    return frames


@dataclass(frozen=True)
class Analysis(Generic[P, F, E]):
    """One registered analysis (see the module docstring for the stages).

    Attributes:
        name: registry name, also the public function's name.
        title: human title.
        group: report group (one of :data:`GROUPS`).
        needs: canonical tables without which it cannot run.
        params: ``params(ds, **options) -> P``: resolved, checked options.
        compute: ``compute(ds, params) -> F``: engine → small frames.
        infer: ``infer(frames, params) -> E``: pure statistics.
        explain: ``explain(estimates, params) -> Result``.
        plan: ``plan(ds) -> Plan``: the report's runs on this dataset.
        function: the public function (set by :func:`register`).
    """

    name: str
    title: str
    group: str
    needs: tuple[str, ...]
    params: Callable[..., P]
    compute: Callable[[Dataset, P], F]
    explain: Callable[[E, P], Result]
    infer: Callable[[F, P], E] = no_inference  # type: ignore[assignment]
    plan: Callable[[Dataset], Plan] = run_once
    function: Callable[..., Result] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.group not in GROUPS:
            raise ValueError(f"{self.name}: unknown group {self.group!r}; groups: {GROUPS}")

    def run(self, ds: Dataset, **options: Any) -> Result:
        """Run the stages on ``ds``: params → compute → infer → explain.

        Options not given take the public function's defaults, so those live in its
        signature only; an option it does not have is a ConfigError naming the ones it has.
        """
        ds.require(*self.needs)
        if self.function is not None:
            try:
                bound = inspect.signature(self.function).bind(ds, **options)
            except TypeError as exc:
                raise ConfigError(
                    f"{self.name}: {exc}; its options are {', '.join(self.options)}"
                ) from None
            bound.apply_defaults()
            options = {k: v for k, v in bound.arguments.items() if k != "ds"}
        params = self.params(ds, **options)
        return self.explain(self.infer(self.compute(ds, params), params), params)

    @property
    def options(self) -> tuple[str, ...]:
        """The keyword-only options of the public function, in order."""
        if self.function is None:
            return ()
        signature = inspect.signature(self.function)
        return tuple(
            n for n, p in signature.parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY
        )


REGISTRY: dict[str, Analysis[Any, Any, Any]] = {}
"""Every registered analysis, by name, in registration (= report) order within a group."""


def register(analysis: Analysis[P, F, E], function: Callable[..., Result]) -> Analysis[P, F, E]:
    """Register ``analysis`` with the public ``function`` that runs it; returns the record."""
    if analysis.name in REGISTRY:
        raise ValueError(f"analysis {analysis.name!r} is registered twice")
    if function.__name__ != analysis.name:
        raise ValueError(f"{function.__name__} must be named like its analysis {analysis.name!r}")
    registered = replace(analysis, function=function)
    REGISTRY[analysis.name] = registered
    return registered


def params_dict(params: Any) -> dict[str, Any]:
    """A params dataclass as the plain dict a Result records."""
    if is_dataclass(params) and not isinstance(params, type):
        return asdict(params)
    return dict(params)
