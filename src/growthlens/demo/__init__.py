"""The demo: generated data with planted truths, one world and one module per domain.

:func:`demo` returns a loaded Dataset whose ``.truth`` holds the planted values;
:func:`write_demo` writes the files and ``truth.json`` (docs/demo.md has the model).

Modules:

- ``world``: what every domain shares: the seed and its random streams
  (:class:`~growthlens.demo.world.Stream`), the calendar, the users (ids, seeding blocks
  of :data:`BLOCK_USERS`) and the truth's frame (sections merged into one dict).
- ``sales``: the first domain, an Afisha-like ticket service: visits, orders and costs.
- ``events``: a GA4-like event log of the same users, with planted funnel truths.
- ``journeys``: the orders' touchpoints (IHC-like weights) and a reference copy of the
  orders with planted reconciliation discrepancies.
- ``discrepancies``: plants the reconciliation classes between two copies of the
  conversions (plain NumPy; shared by ``journeys`` and ``challenge``).
- ``challenge``: :func:`write_challenge_db`, a "Company X" SQLite database (issue 15's
  schema) with exact planted counts, apart from the main demo.
- ``shop``: :func:`write_shop`, the sporting-goods shop case of issue 16 (a SQLite
  database, a CSV of profiles, two participant lists, its ``growthlens.toml``) with its
  :class:`ShopTruth`, apart from the main demo; ``demo(case="shop")`` loads it.
- ``writer``: appends Arrow tables to one CSV or Parquet file.
- ``files``: :func:`write_demo`, :func:`demo` and :class:`Truth`, which run the domains.

Adding a domain (customers and campaigns, experiments):

1. Write ``demo/<domain>.py`` with ``write_<domain>(world, folder, *, format,
   chunk_users) -> (paths, section)``: it writes its tables into ``folder`` with
   :class:`~growthlens.demo.writer.TableWriter` and returns their paths by name and its
   planted truths as a frozen dataclass subclassing
   :class:`~growthlens.demo.world.TruthSection`.
2. Draw every random number from ``world.rng(Stream.<NEW>, …)``: add a member to
   ``Stream`` with the next free number (never renumber) and spawn sub-keys under it,
   e.g. one per seeding block. Each stream is ``SeedSequence(seed, spawn_key=(stream,
   …))``, independent of every other, so a new domain leaves the existing domains' files
   byte-identical.
3. Take users from the world, block by block (``world.block_sizes``,
   ``world.user_ids``), so the new rows join the other tables on the same ids. What
   sales draws per user (acquisition source, device, first visit) lives in its block
   stream: get it with :func:`~growthlens.demo.sales.sales_users` (which replays the
   block's first draws); a second draw would contradict the sessions.
4. In ``files``: call the domain in :func:`write_demo`, add its section as a field of
   :class:`Truth` (its keys join ``truth.json``; a key another section has is an error,
   so name them after the domain), and pass its tables to ``load`` in :func:`demo`.
5. Test it in ``tests/demo/``: the planted values recovered from the files with plain
   pandas, and the other domains' files unchanged for the same arguments.
"""

from growthlens.demo.challenge import ChallengeTruth, write_challenge_db
from growthlens.demo.events import EventsTruth
from growthlens.demo.files import Truth, demo, write_demo
from growthlens.demo.journeys import JourneysTruth
from growthlens.demo.sales import SalesTruth, anomaly_targets, retention_probability
from growthlens.demo.shop import ShopTruth, write_shop
from growthlens.demo.world import BLOCK_USERS, World, WorldTruth

__all__ = [
    "BLOCK_USERS",
    "ChallengeTruth",
    "EventsTruth",
    "JourneysTruth",
    "SalesTruth",
    "ShopTruth",
    "Truth",
    "World",
    "WorldTruth",
    "anomaly_targets",
    "demo",
    "retention_probability",
    "write_challenge_db",
    "write_demo",
    "write_shop",
]
