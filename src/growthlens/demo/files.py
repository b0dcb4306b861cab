"""The demo's files: every domain's tables plus ``truth.json``, and the loaded Dataset.

:func:`write_demo` builds the :class:`~growthlens.demo.world.World`, lets each domain
write its tables and collects their truth sections into one :class:`Truth`; :func:`demo`
writes to a temporary folder, loads the files through :func:`growthlens.load` (so the
quality report is a real one) and returns the Dataset with ``.truth`` set. With
``case="shop"`` it writes the sporting-goods shop case instead
(:func:`~growthlens.demo.shop.write_shop`) and loads its folder the way a user would.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from growthlens.data.dataset import Dataset
from growthlens.data.load import load
from growthlens.demo.challenge import write_challenge_db
from growthlens.demo.events import EventsTruth, write_events
from growthlens.demo.journeys import JourneysTruth, write_journeys
from growthlens.demo.sales import SalesTruth, write_sales
from growthlens.demo.shop import MIN_CUSTOMERS, write_shop
from growthlens.demo.world import World, WorldTruth, merge_sections
from growthlens.demo.writer import Format
from growthlens.engine import BackendLike
from growthlens.errors import ConfigError

Case = Literal["main", "shop", "challenge"]
"""Which generated dataset :func:`demo` returns."""
CASES: tuple[Case, ...] = ("main", "shop", "challenge")
MIN_CONVERSIONS = 200
"""The smallest Company X database the challenge case writes (its planted counts fit)."""


@dataclass(frozen=True)
class Truth:
    """The planted values of one generated demo, one section per domain.

    ``truth.json`` and ``ds.truth`` are :meth:`to_dict`: the sections' keys side by
    side, the world's first.

    Attributes:
        world: seed, users, months and the data window.
        sales: the sales tables' planted parameters and exact counts.
        events: the event log's planted parameters and exact funnel counts.
        journeys: the touchpoints' and reference conversions' planted counts.
    """

    world: WorldTruth
    sales: SalesTruth
    events: EventsTruth
    journeys: JourneysTruth

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every section's keys."""
        return merge_sections(self.world, self.sales, self.events, self.journeys)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Truth:
        """Rebuild from :meth:`to_dict` output (e.g. ``ds.truth`` or ``truth.json``)."""
        return cls(
            WorldTruth.from_dict(data),
            SalesTruth.from_dict(data),
            EventsTruth.from_dict(data),
            JourneysTruth.from_dict(data),
        )


def write_demo(
    out: Path | str,
    *,
    users: int,
    seed: int = 0,
    months: int = 12,
    format: Format = "csv",
    chunk_users: int = 200_000,
) -> dict[str, Path]:
    """Write the demo dataset (Yandex.Afisha layout, an event log, journeys), plus ``truth.json``.

    Args:
        out: folder to write into (created if missing).
        users: number of users; sessions ≈ 1.6 × users (``truth.json`` has the exact totals).
        seed: the files are a function of (``seed``, ``users``, ``months``) only.
        months: calendar months in the window, starting 2017-06-01 (at least 2).
        format: ``"csv"`` or ``"parquet"``.
        chunk_users: users held in memory per write (rounded up to whole seeding blocks);
            it changes memory use, not the data.

    Returns:
        ``{"visits": …, "orders": …, "costs": …, "events": …, "touchpoints": …,
        "conversions_reference": …, "truth": …}`` paths.

    Raises:
        ConfigError: ``users`` < 100, ``months`` < 2 or an unknown ``format``.

    Example:
        >>> import tempfile, json
        >>> files = write_demo(tempfile.mkdtemp(), users=200, seed=1)
        >>> sorted(files)
        ['conversions_reference', 'costs', 'events', 'orders', 'touchpoints', 'truth', 'visits']
        >>> json.loads(files["truth"].read_text())["window"]
        ['2017-06-01', '2018-05-31']
    """
    if users < 100:
        raise ConfigError(f"the demo needs at least 100 users; got users={users}")
    if months < 2:
        raise ConfigError(
            "the demo needs at least 2 months (retention needs a month after arrival); "
            f"got months={months}"
        )
    if format not in ("csv", "parquet"):
        raise ConfigError(f"format must be 'csv' or 'parquet'; got {format!r}")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    world = World.of(users=users, seed=seed, months=months)
    paths, sales = write_sales(world, folder, format=format, chunk_users=chunk_users)
    event_paths, events = write_events(world, folder, format=format, chunk_users=chunk_users)
    paths.update(event_paths)
    journey_paths, journeys = write_journeys(
        world, folder, format=format, chunk_users=chunk_users, orders=sales.totals["orders"]
    )
    paths.update(journey_paths)
    truth = Truth(world.truth(), sales, events, journeys)
    paths["truth"] = folder / "truth.json"
    paths["truth"].write_text(json.dumps(truth.to_dict(), indent=2) + "\n")
    return paths


def demo(
    *,
    users: int = 30_000,
    seed: int = 0,
    months: int = 12,
    backend: BackendLike = None,
    case: Case = "main",
) -> Dataset:
    """Generate a demo dataset, load it with :func:`growthlens.load`, attach the truth.

    The files go to a private temporary folder (removed when Python exits) and are read
    lazily, so memory stays bounded for large ``users``.

    - ``case="main"``: the main demo (Afisha-like sales, an event log, journeys), written
      as Parquet by :func:`write_demo`.
    - ``case="shop"``: the sporting-goods shop case of issue 16 (a SQLite database, a
      gzipped CSV of profiles, two messy participant lists and its ``growthlens.toml``),
      written by :func:`~growthlens.demo.shop.write_shop` with ``customers=users`` and
      loaded from its folder as a user would (the shop preset reads the config, so the
      report runs the email A/B test and the city campaign). Its 59 days are fixed:
      ``months`` must stay at its default.
    - ``case="challenge"``: the "Company X" database of issue 15 (sessions with channels,
      campaigns and markets, AdWords costs with clicks and impressions, IHC journeys and a
      backend copy of the conversions with planted discrepancies of every reconciliation
      class), zipped, written by :func:`~growthlens.demo.challenge.write_challenge_db`
      with ``conversions=users`` and loaded from the zip as a user would. Its window is
      fixed: ``months`` must stay at its default.

    Args:
        users: number of users (main: sessions ≈ 1.6 × users; shop: customers with a
            profile, at least 1,000; challenge: true conversions, at least 200).
        seed: random seed; the data is a function of the arguments.
        months: calendar months in the main demo's window starting 2017-06-01.
        backend: as for :func:`growthlens.load`.
        case: ``"main"``, ``"shop"`` or ``"challenge"``.

    Returns:
        The Dataset; ``ds.truth`` is the planted values (main: :meth:`Truth.to_dict`;
        shop: :meth:`ShopTruth.to_dict <growthlens.demo.shop.ShopTruth>`, keys ``shop_…``;
        challenge: :class:`~growthlens.demo.challenge.ChallengeTruth` as a dict).

    Raises:
        ConfigError: an unknown ``case``; for the shop, ``users`` below 1,000; for the
            challenge, below 200; for either, ``months`` other than 12.

    Example:
        >>> import growthlens as gl
        >>> ds = gl.demo(users=500, seed=1)
        >>> ds.truth["window"], str(ds.window[1])
        (['2017-06-01', '2018-05-31'], '2018-05-31')
    """
    if case not in CASES:
        raise ConfigError(f"case must be one of {', '.join(map(repr, CASES))}; got {case!r}")
    if case != "main":
        # Check before the temporary folder exists: a bad option leaves nothing behind.
        least, unit = (
            (MIN_CUSTOMERS, "customers") if case == "shop" else (MIN_CONVERSIONS, "conversions")
        )
        if users < least:
            raise ConfigError(
                f"the {case} demo needs at least {least:,} users ({unit}); got users={users}"
            )
        if months != 12:
            raise ConfigError(
                f"months applies to the main demo only (the {case} case has a fixed window); "
                f"got months={months} with case={case!r}"
            )
    folder = Path(tempfile.mkdtemp(prefix=f"growthlens-{case}-demo-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    if case == "shop":
        truth = write_shop(folder, customers=users, seed=seed)
        ds = load(folder, backend=backend)
        return dataclasses.replace(ds, truth=truth.to_dict())
    if case == "challenge":
        path = folder / "challenge.zip"
        planted = write_challenge_db(path, seed=seed, conversions=users, zipped=True)
        ds = load(path, backend=backend)
        return dataclasses.replace(ds, truth=planted.to_dict())
    files = write_demo(folder, users=users, seed=seed, months=months, format="parquet")
    ds = load(
        sessions=files["visits"],
        orders=files["orders"],
        costs=files["costs"],
        events=files["events"],
        touchpoints=files["touchpoints"],
        # Duplicated keys are a reconciliation class: keep them for gl.reconcile.
        conversions_reference={"path": str(files["conversions_reference"]), "duplicates": "keep"},
        backend=backend,
    )
    main_truth: dict[str, Any] = json.loads(files["truth"].read_text())
    return dataclasses.replace(ds, truth=main_truth)
