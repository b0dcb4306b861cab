"""Every example in the docstrings runs and prints what it says (the docs cannot rot)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType

import pytest

import growthlens


def _modules_with_examples() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(growthlens.__path__, prefix="growthlens."):
        module = importlib.import_module(info.name)
        source = module.__loader__.get_source(info.name) if module.__loader__ else None  # type: ignore[attr-defined]
        if source and ">>>" in source:
            names.append(info.name)
    return names


MODULES = _modules_with_examples()


def test_examples_are_found() -> None:
    # The walk itself could silently find nothing; these modules are known to have some.
    assert {"growthlens.text", "growthlens.metrics.marketing.cac"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(
    name: str, tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    module: ModuleType = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
