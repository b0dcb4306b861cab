"""The sporting-goods shop case (issues 16 and 17): its files, with planted truths.

:func:`write_shop` writes the case's layout into a folder:

- ``shop_database.db`` (SQLite): ``personal_data(id, gender, age, education, city,
  country)``, ``personal_data_coeffs(id, lbt_coef, ac_coef, sm_coef, personal_coef)`` and
  ``purchases(id, product, colour, cost, product_sex, base_sale, dt)``, one row per item,
  ``dt`` a day number 0–58;
- ``personal_data.csv.gz``: the profiles lost from the database (no gender), plus a few
  ids present in both sources, with identical or conflicting values;
- ``ids_first_company_positive.txt`` / ``ids_first_company_negative.txt``: the email
  campaign's treatment and control lists, messy on purpose;
- ``growthlens.toml``: the short config of the case (:data:`SHOP_TOML`);
- ``truth.json``: :class:`ShopTruth` (keys prefixed ``shop_``).

The model (plain NumPy, vectorised; every number below is a module constant):

- **Customers**: distinct integer ids drawn sparsely from a range eight times larger
  than needed, so ids of nobody exist; one of :data:`N_CITIES` cities of very different
  sizes (Zipf-like; :data:`CITY` is the third largest), each city in one country. Each
  customer belongs to one of four :data:`PERSONAS` (planted clusters): it sets the age,
  gender and education, the products and colour they favour, the share bought on sale and
  how soon they first buy.
- **Purchases** (a BG/NBD process at day resolution): a customer who has not bought yet
  buys on day ``d`` with probability ``first_i · f(d)``; after that with ``base_i · f(d)``
  (the repeat rate, ``base_i`` ~ Gamma(:data:`BASE_SHAPE`, mean :data:`BASE_MEAN`) for
  everyone, capped at :data:`BASE_CAP`), and after each repeat purchase they stop for
  good with probability ``dropout_i`` ~ Beta(:data:`DROPOUT_A`, :data:`DROPOUT_B`).
  ``first_i`` ~ Gamma(:data:`FIRST_SHAPE`, mean :data:`FIRST_MEAN`) × the persona's
  ``acquisition``. ``f(d) = (1 + TREND·d) · weekday(d)`` (weekday from the calendar date
  ``DAY_ZERO + d``, :data:`WEEKDAY`); the email adds :data:`EMAIL_EXTRA_BY_AGE` (by age
  group) for the treated on its window; the city multiplies by ``1 + CITY_LIFT`` in
  :data:`CITY` on :data:`CITY_DAYS`. An order is a (customer, day). The coefficients
  table carries the process noisily: ``personal_coef`` ∝ ``base_i``, ``ac_coef`` ∝
  ``first_i``, ``lbt_coef`` ≈ ``1 − dropout_i``; ``sm_coef`` is noise.
- **Planted leak**: the table ``crm_snapshot(id, active_last_14_days)``, a flag exported
  at the end of the data: bought in :data:`PROPENSITY_WINDOW`. The preset does not read
  it; a user who adds it as a feature for that window must be refused.
- **Lines**: an order has ``1 + Poisson(EXTRA_ITEMS)`` items; each line's product is drawn
  from :data:`CATALOGUE` by weight (the persona's products :data:`LIKE_BOOST` times as
  likely), spelled canonically or as one of its case/whitespace
  variants, with a colour (words joined by '/'), a product_sex (0/1/NULL by product) and
  a price: the list price, or on a base sale (the persona's ``sale`` share of the other lines)
  ``round(BASE_SALE_FACTOR · price)``; a treated customer's lines on the email window have
  ``base_sale = 1`` and ``round((1 − EMAIL_DISCOUNT) · price)``. Two lines of one order
  never coincide in every column (a colour is redrawn), so every exact duplicate in the
  file is a planted one.
- **Planted mess**, counted in the truth: exact duplicate lines, extra lines with a zero
  or negative cost (a return), customers with purchases but no profile, coefficient rows
  without a profile, customers without coefficients, profiles only in the CSV, profiles
  in both sources (identical, or conflicting in age, education or country: never in
  city, so the city campaign's treated customers do not depend on the combining policy).
  The duplicate and zero/negative lines are extra lines added to orders of customers in
  neither list and outside :data:`CITY`, so the arms' and the city's expectations hold
  whether an analysis drops them or not.
- **Email campaign** (randomised): ``customers // 2`` eligible customers, shuffled and
  split in two halves: treatment (the positive list) and control (the negative list).
  :data:`IN_BOTH` treated ids are written in the negative list too (treated in the data;
  an analysis excludes them). The lists add a header word, mixed separators,
  duplicates, stray tokens, quoted ids, ``123.0`` ids and ids of nobody.
- **City campaign** (not randomised): :data:`CITY` on :data:`CITY_DAYS`.

The truth's expectations are exact conditional expectations given the drawn customers
(computed from the ``p``'s by a two-state recursion per customer, not from the sampled
rows): with ``N_d`` = P(not bought yet at the start of day d) and ``K_d`` = P(bought and
still active), ``P(order on d) = N_d·p_first + K_d·p_repeat``; per arm, over the
participants (ids in exactly one list and known), ``conversion`` = mean P(an order in the
window), ``orders`` = mean Σ P(order on d), ``items = orders · (1 + EXTRA_ITEMS)``,
``revenue`` = mean of orders · items per order · the customer's expected line cost,
``average_check = revenue ÷ orders`` (ratios of expectations, the estimands of ratios of
sums); ``uplift_by_age`` the same conversion difference per age group. For the city
campaign, with ``E_T(d)`` the expected orders of :data:`CITY` on day ``d`` and ``E_C(d)``
those of the other cities together: ``naive_ratio = mean_camp E_T ÷ mean_other E_T``,
``comparison_ratio`` the same on ``E_C``, ``ratio_of_ratios = naive_ratio ÷
comparison_ratio``, and ``additive`` = mean over the campaign days of ``E_T(d) − E_T(d)``
without the city lift (extra orders per campaign day). The planted propensity of a
customer is the Bayes probability of buying in :data:`PROPENSITY_WINDOW` given their
rates, dropout probability and purchase days before it; ``planted_auc`` its ROC-AUC
against what they did.

Random numbers come from ``SeedSequence(seed, spawn_key=(SHOP_STREAM, draw, …))``, one
key per kind of draw (:class:`_Draw`), so the files are a function of ``(customers,
seed)`` only.
"""

from __future__ import annotations

import gzip
import io
import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import IntEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.stats import rankdata

from growthlens.demo.world import TruthSection

# ---- planted parameters -------------------------------------------------------------
DAYS = 59
DAY_ZERO = date(2023, 1, 1)
PRE_WINDOW = (0, 4)
EMAIL_WINDOW = (5, 16)
EMAIL_EXTRA_BY_AGE = ((0, 30, 0.012), (30, 50, 0.005), (50, 200, 0.0))
"""The email's extra daily purchase probability by age group: [low, high) years → extra.

Added to the rate, not multiplied: the email changes the young most and the over-50s
not at all, whatever their usual rate, so whom it changes differs from who buys anyway
(a ranking by propensity alone targets the wrong people; an uplift model should not)."""
EMAIL_DISCOUNT = 0.10
CITY = 1134
CITY_DAYS = (15, 45)
CITY_LIFT = 0.6
TREND = 0.0
"""Purchase-rate trend per day (0: the rate is stationary, as the BG/NBD model assumes)."""
WEEKDAY = (0.90, 0.90, 0.92, 0.95, 1.05, 1.25, 1.20)
"""Purchase-rate factor by weekday, Monday first."""
BASE_MEAN = 0.032
BASE_SHAPE = 1.5
BASE_CAP = 0.25
EXTRA_ITEMS = 0.7
BASE_SALE_FACTOR = 0.8
FIRST_MEAN, FIRST_SHAPE = 0.02, 2.0
"""Gamma of the first-purchase rate per day (times the persona's ``acquisition``)."""
DROPOUT_A, DROPOUT_B = 0.6, 3.4
"""Beta(a, b) of the probability that a customer stops buying after a repeat purchase."""
PROPENSITY_WINDOW = (45, 58)
"""The window of the planted propensity truth (bought anything in these days)."""
COEF_NOISE = 0.2
"""Log-normal noise of ``personal_coef`` around the customer's purchase rate."""
N_CITIES = 30
CITY_RANK = 2  # 0-based: the third largest city
COUNTRIES = (643, 112, 398)
LOST_SHARE = 0.10
NO_COEFF_SHARE = 0.03
MIN_CUSTOMERS = 1_000

# Planted counts (fixed, so a test can state them).
BOTH_IDENTICAL = 25
BOTH_CONFLICTING = 15
ORPHAN_BUYERS = 8
COEFF_ONLY = 5
IN_BOTH = 12
UNKNOWN = {"positive": 15, "negative": 10}
DUPLICATE_IDS = {"positive": 40, "negative": 30}
QUOTED = {"positive": 8, "negative": 0}
DECIMALS = {"positive": 0, "negative": 5}
STRAYS: dict[str, dict[str, int]] = {
    "positive": {"NaN": 6, "—": 4, "id": 1, "нет данных": 2},
    "negative": {"NaN": 3, "—": 2, "клиент удалён": 2, "Итого:": 1},
}
"""Stray entries per list (a phrase counts one token per word)."""
DUPLICATE_HOSTS, TRIPLED = 25, 5  # 25 lines copied once, 5 of them twice: 30 extra rows
ZERO_COST, NEGATIVE_COST = 20, 12

HEADER = "id"
SEPARATORS = ("\n", "\r\n", ",", ", ", ";", "; ", " ", "\t", "\n\n", " ,\n", "\xa0")
SEPARATOR_WEIGHTS = (0.30, 0.10, 0.15, 0.12, 0.08, 0.06, 0.08, 0.04, 0.03, 0.02, 0.02)

SHOP_STREAM = 16
"""The first spawn key of every shop draw (apart from the demo world's streams)."""
CHUNK = 50_000
"""Customers per purchase-drawing block (fixed: the files must not depend on memory)."""

FILES = {
    "database": "shop_database.db",
    "profiles_csv": "personal_data.csv.gz",
    "positive": "ids_first_company_positive.txt",
    "negative": "ids_first_company_negative.txt",
    "config": "growthlens.toml",
    "truth": "truth.json",
    "truth_customers": "truth_customers.csv.gz",
}
LEAK_TABLE, LEAK_COLUMN = "crm_snapshot", "active_last_14_days"
"""The planted leak: a CRM flag exported at the end of the data (bought in days 45–58)."""

SHOP_TOML = """\
[settings]
day_zero = 2023-01-01            # hypothetical calendar date of day 0 (the data gives day numbers)
currency = "RUB"
order_lines = true

[[settings.experiments]]
name = "Email discount (first campaign)"
window = [5, 16]
pre_window = [0, 4]

[[settings.campaigns]]
name = "Billboards in city 1134"
treated = { city = 1134 }
period = [15, 45]
metric = "orders"
"""


@dataclass(frozen=True)
class Persona:
    """A planted group of customers (a cluster ``gl.clusters`` should find).

    Age ~ Normal(``age``) clipped to 18–75; ``male`` and ``higher`` the shares who are men
    and have a higher education; the products in ``likes`` are drawn ``LIKE_BOOST`` times
    as often as the catalogue weight, colours whose first word is ``colour`` likewise;
    ``sale`` the share of lines bought on a base sale (off the email promotion);
    ``acquisition`` multiplies the rate of the first purchase. Personas do not change how
    often a customer buys again (the repeat rate is one Gamma for everyone: BG/NBD).
    """

    name: str
    share: float
    age: tuple[float, float]
    male: float
    higher: float
    likes: tuple[str, ...]
    colour: str
    sale: float
    acquisition: float


PERSONAS = (
    Persona("young football fans", 0.30, (21, 2.0), 0.90, 0.10,
            ("Кроссовки Adidas", "Бутсы Adidas", "Мяч футбольный Select", "Гетры Demix"),
            "чёрный", 0.45, 0.6),
    Persona("fitness", 0.30, (34, 2.5), 0.08, 0.90,
            ("Леггинсы Nike", "Толстовка Puma", "Футболка Nike"), "белый", 0.08, 1.0),
    Persona("outdoor", 0.20, (47, 2.5), 0.75, 0.60,
            ("Куртка Columbia", "Рюкзак Nike", "Спортивный костюм Reebok"), "синий", 0.12, 1.3),
    Persona("easy-going seniors", 0.20, (63, 3.0), 0.35, 0.30,
            ("Носки Adidas", "Кепка Reebok", "Бутылка для воды", "Шорты Puma"), "серый", 0.20,
            1.8),
)  # fmt: skip
LIKE_BOOST = 20.0


@dataclass(frozen=True)
class Product:
    """One catalogue product: its spellings, list price (roubles) and draw weight."""

    name: str
    variants: tuple[str, ...]
    price: int
    weight: float
    sex: tuple[float, float, float]  # P(product_sex = 0), P(= 1), P(NULL)


CATALOGUE = (
    Product("Футболка Nike", ("футболка  nike", "ФУТБОЛКА NIKE", "Футболка Nike "), 1990, 0.16,
            (0.4, 0.4, 0.2)),
    Product("Кроссовки Adidas", ("кроссовки adidas", "Кроссовки  Adidas"), 6990, 0.10,
            (0.45, 0.45, 0.1)),
    Product("Шорты Puma", ("шорты puma",), 1490, 0.09, (0.3, 0.5, 0.2)),
    Product("Кепка Reebok", ("кепка  reebok",), 890, 0.06, (0.0, 0.0, 1.0)),
    Product("Рюкзак Nike", ("рюкзак nike", " Рюкзак Nike"), 3490, 0.06, (0.0, 0.0, 1.0)),
    Product("Носки Adidas", ("носки adidas",), 390, 0.12, (0.3, 0.3, 0.4)),
    Product("Куртка Columbia", ("куртка columbia",), 8990, 0.04, (0.5, 0.5, 0.0)),
    Product("Мяч футбольный Select", ("мяч футбольный select",), 2490, 0.05, (0.0, 0.0, 1.0)),
    Product("Гетры Demix", ("гетры demix",), 590, 0.05, (0.2, 0.6, 0.2)),
    Product("Толстовка Puma", ("толстовка  puma", "ТОЛСТОВКА PUMA"), 3990, 0.07,
            (0.45, 0.45, 0.1)),
    Product("Леггинсы Nike", ("леггинсы nike",), 2290, 0.06, (0.9, 0.05, 0.05)),
    Product("Бутсы Adidas", ("бутсы adidas",), 5490, 0.05, (0.1, 0.8, 0.1)),
    Product("Бутылка для воды", ("бутылка для  воды",), 490, 0.05, (0.0, 0.0, 1.0)),
    Product("Спортивный костюм Reebok", ("спортивный костюм reebok",), 6490, 0.04,
            (0.5, 0.5, 0.0)),
)  # fmt: skip
CANONICAL_SHARE = 0.8
"""Share of lines spelling the product canonically (the rest: one of its variants)."""

COLOUR_WORDS = ("чёрный", "черный", "белый", "синий", "красный", "серый", "зелёный", "жёлтый")


class _Draw(IntEnum):
    """The second spawn key: one per kind of draw (append, never renumber)."""

    IDS = 0
    PROFILES = 1
    COEFFS = 2
    ASSIGNMENT = 3
    ORDERS = 4  # (4, chunk)
    ANOMALIES = 5
    LISTS = 6  # (6, list number)
    PERSONAS = 7
    SNAPSHOT = 8


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(SHOP_STREAM, *keys)))


@dataclass(frozen=True)
class ShopTruth(TruthSection):
    """The planted values of one shop folder (``truth.json``; keys prefixed ``shop_``).

    Attributes:
        shop_seed: the generator seed.
        shop_customers: customers with a profile (database or CSV).
        shop_days: days in the data (day numbers ``0 .. shop_days − 1``).
        shop_day_zero: the calendar date of day 0 (ISO), as in the config.
        shop_files: file role → file name.
        shop_model: the planted parameters (purchase model, catalogue, mean line costs,
            items per order, weekday factors by name, city sizes).
        shop_email: the email campaign: planted ``extra_by_age`` and ``discount``, ``window``,
            ``pre_window``, ``eligible``, ``assigned`` per arm, ``in_both``,
            ``participants`` per arm (ids in exactly one list and known); ``expected``:
            arm → metric → value over the window, ``expected_pre`` the same over the
            pre-window; ``difference`` and ``relative``: metric → treatment − control and
            treatment ÷ control − 1. Metrics: ``conversion``, ``orders``, ``items``,
            ``revenue`` (per participant), ``average_check``, ``revenue_per_buyer``,
            ``items_per_buyer`` (ratios of expectations).
        shop_city: the city campaign: ``city``, ``days``, planted ``lift``, ``customers``
            in the city, ``cities``, ``comparison_cities``, ``ratio_of_ratios``,
            ``naive_ratio``, ``comparison_ratio``, ``naive_bias`` (naive − ratio of
            ratios), ``naive_relative_bias`` (naive ÷ ratio of ratios − 1), ``additive``
            (extra orders per campaign day in the city), ``did_additive`` (what an
            additive DiD against the mean comparison city estimates: not the additive
            effect, as the city is larger than the mean city and trends are
            multiplicative), ``expected_orders_treated`` / ``expected_orders_comparison``
            (per day, the comparison as the sum over the other cities).
        shop_lists: ``positive`` / ``negative`` → ``tokens``, ``ids`` (distinct),
            ``duplicates``, ``non_ids`` (token → count), ``header``, ``unknown_ids``,
            ``in_both`` (distinct ids also in the other list), ``in_both_tokens`` and
            ``unknown_tokens`` (their tokens in this list, duplicates included),
            ``quoted``, ``decimals``, ``accepted`` (participants).
        shop_cleaning: ``lines`` (rows in purchases), ``duplicate_lines`` (rows
            repeating an earlier row), ``zero_cost``, ``negative_cost``, ``clean_lines``,
            ``orders`` (distinct (id, dt)), ``spelling_variants`` (distinct product
            strings), ``products`` (canonical names).
        shop_planted: issue 17's truths: ``personas`` (name → size and traits),
            ``bgnbd`` (``r``, ``alpha`` per day, ``a``, ``b``; ``alpha_effective`` divides
            by the mean weekday factor), ``propensity`` (``window``, ``base_rate``,
            ``planted_auc``), ``leak`` (table, column) and ``per_customer_file`` (the
            CSV of each customer's persona, rates, dropout, email extra, planted
            propensity and label).
        shop_profiles: ``db_rows``, ``csv_rows``, ``csv_only``, ``in_both``,
            ``in_both_identical``, ``in_both_conflicting``, ``conflicts_by_column``,
            ``coeff_rows``, ``customers_without_coeffs``, ``coeffs_without_profile``,
            ``purchases_without_profile`` (ids), ``customers_combined`` (distinct ids in
            the three profile tables).
    """

    shop_seed: int
    shop_customers: int
    shop_days: int
    shop_day_zero: str
    shop_files: Mapping[str, str]
    shop_model: Mapping[str, Any]
    shop_email: Mapping[str, Any]
    shop_city: Mapping[str, Any]
    shop_lists: Mapping[str, Any]
    shop_cleaning: Mapping[str, Any]
    shop_profiles: Mapping[str, Any]
    shop_planted: Mapping[str, Any]


# ---- customers ----------------------------------------------------------------------
@dataclass(frozen=True)
class _People:
    ids: NDArray[np.int64]  # customers with a profile, then orphan buyers
    gender: NDArray[np.int64]
    age: NDArray[np.int64]
    higher: NDArray[np.bool_]
    city: NDArray[np.int64]  # city code; −1 for the orphan buyers
    country: NDArray[np.int64]
    base: NDArray[np.float64]  # repeat purchase rate per day (BG/NBD λ)
    first: NDArray[np.float64]  # first purchase rate per day
    persona: NDArray[np.int64]  # index into PERSONAS
    dropout: NDArray[np.float64]  # P(stop buying after a repeat purchase)
    coeff_only: NDArray[np.int64]
    unknown: dict[str, NDArray[np.int64]]
    city_codes: NDArray[np.int64]
    city_weights: NDArray[np.float64]


def _people(n: int, seed: int) -> _People:
    extra = ORPHAN_BUYERS + COEFF_ONLY + sum(UNKNOWN.values())
    rng = _rng(seed, _Draw.IDS)
    pool = rng.choice(8 * (n + extra), size=n + extra, replace=False).astype(np.int64) + 100_000
    buyers = n + ORPHAN_BUYERS
    unknown_pos = pool[buyers + COEFF_ONLY : buyers + COEFF_ONLY + UNKNOWN["positive"]]
    unknown_neg = pool[buyers + COEFF_ONLY + UNKNOWN["positive"] :]

    rng = _rng(seed, _Draw.PROFILES)
    others = np.setdiff1d(np.arange(1000, 2000), [CITY])
    codes = rng.choice(others, size=N_CITIES - 1, replace=False).astype(np.int64)
    codes = np.insert(codes, CITY_RANK, CITY)
    weights: NDArray[np.float64] = 1.0 / np.arange(1, N_CITIES + 1, dtype=np.float64) ** 1.1
    weights /= weights.sum()
    city_index = rng.choice(N_CITIES, size=buyers, p=weights)
    city = codes[city_index]
    city[n:] = -1
    # Cities are spread over the countries: the first 20 in the first, then 6, then 4.
    country_of_city = np.repeat(np.array(COUNTRIES, dtype=np.int64), [20, 6, 4])
    country = country_of_city[city_index]
    base = np.minimum(rng.gamma(BASE_SHAPE, BASE_MEAN / BASE_SHAPE, size=buyers), BASE_CAP)
    rng = _rng(seed, _Draw.PERSONAS)
    shares = np.array([q.share for q in PERSONAS])
    persona = rng.choice(len(PERSONAS), size=buyers, p=shares / shares.sum()).astype(np.int64)
    mean, sd = (np.array([q.age[k] for q in PERSONAS])[persona] for k in (0, 1))
    age = np.clip(np.rint(rng.normal(mean, sd)), 18, 75).astype(np.int64)
    male = np.array([q.male for q in PERSONAS])[persona]
    gender = (rng.random(buyers) < male).astype(np.int64)
    higher = rng.random(buyers) < np.array([q.higher for q in PERSONAS])[persona]
    dropout = rng.beta(DROPOUT_A, DROPOUT_B, size=buyers)
    acquisition = np.array([q.acquisition for q in PERSONAS])[persona]
    first = np.minimum(rng.gamma(FIRST_SHAPE, FIRST_MEAN / FIRST_SHAPE, buyers), BASE_CAP)
    first = np.minimum(first * acquisition, BASE_CAP)
    return _People(
        ids=pool[:buyers],
        gender=gender,
        age=age,
        higher=higher,
        city=city,
        country=country,
        base=base,
        first=first,
        persona=persona,
        dropout=dropout,
        coeff_only=pool[buyers : buyers + COEFF_ONLY],
        unknown={"positive": unknown_pos, "negative": unknown_neg},
        city_codes=codes,
        city_weights=weights,
    )


def _education(higher: NDArray[np.bool_]) -> list[str]:
    return ["высшее" if h else "среднее" for h in higher.tolist()]


@dataclass(frozen=True)
class _Profiles:
    db: NDArray[np.int64]  # indexes of customers in personal_data, in row order
    csv: pd.DataFrame
    counts: dict[str, Any]


def _profiles(people: _People, n: int, seed: int) -> _Profiles:
    rng = _rng(seed, _Draw.PROFILES, 1)
    order = rng.permutation(n)
    lost_n = round(LOST_SHARE * n)
    lost = order[:lost_n]
    identical = order[lost_n : lost_n + BOTH_IDENTICAL]
    conflicting = order[lost_n + BOTH_IDENTICAL : lost_n + BOTH_IDENTICAL + BOTH_CONFLICTING]
    in_db = np.sort(order[lost_n:])
    db = in_db[rng.permutation(in_db.size)]
    csv_index = np.concatenate([lost, identical, conflicting])
    age = people.age[csv_index].copy()
    higher = people.higher[csv_index].copy()
    country = people.country[csv_index].copy()
    # Conflicts cycle over age, education and country (never city: see the module doc).
    columns = ("age", "education", "country")
    by_column = dict.fromkeys(columns, 0)
    first = lost_n + BOTH_IDENTICAL
    for k in range(BOTH_CONFLICTING):
        row, column = first + k, columns[k % 3]
        by_column[column] += 1
        if column == "age":
            age[row] += int(rng.integers(1, 6))
        elif column == "education":
            higher[row] = not higher[row]
        else:
            country[row] = next(c for c in COUNTRIES if c != country[row])
    csv = pd.DataFrame(
        {
            "id": people.ids[csv_index],
            "age": age,
            "education": _education(higher),
            "city": people.city[csv_index],
            "country": country,
        }
    )
    csv = csv.iloc[rng.permutation(len(csv))].reset_index(drop=True)
    counts = {
        "db_rows": int(db.size),
        "csv_rows": len(csv),
        "csv_only": lost_n,
        "in_both": BOTH_IDENTICAL + BOTH_CONFLICTING,
        "in_both_identical": BOTH_IDENTICAL,
        "in_both_conflicting": BOTH_CONFLICTING,
        "conflicts_by_column": by_column,
    }
    return _Profiles(db, csv, counts)


def _coefficients(people: _People, n: int, seed: int) -> tuple[pd.DataFrame, dict[str, int]]:
    rng = _rng(seed, _Draw.COEFFS)
    missing = round(NO_COEFF_SHARE * n)
    have = np.sort(rng.permutation(n)[missing:])
    ids = np.concatenate([people.ids[have], people.coeff_only])
    m = ids.size

    # The coefficients carry the planted purchase process, noisily (features issue 17 can
    # use): personal_coef the repeat rate, ac_coef the first-purchase rate, lbt_coef the
    # loyalty 1 − dropout; sm_coef is noise.
    def planted(values: NDArray[np.float64], draw: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.concatenate([values[have], draw])

    rate = planted(people.base, rng.gamma(BASE_SHAPE, BASE_MEAN / BASE_SHAPE, COEFF_ONLY))
    first = planted(people.first, rng.gamma(FIRST_SHAPE, FIRST_MEAN / FIRST_SHAPE, COEFF_ONLY))
    stay = 1 - planted(people.dropout, rng.beta(DROPOUT_A, DROPOUT_B, COEFF_ONLY))
    frame = pd.DataFrame(
        {
            "id": ids,
            "lbt_coef": np.round(np.clip(stay + rng.normal(0, 0.05, m), 0, 1), 4),
            "ac_coef": np.round(first / FIRST_MEAN * rng.lognormal(0, COEF_NOISE, m), 4),
            "sm_coef": np.round(rng.normal(0, 1, m), 4),
            "personal_coef": np.round(rate / BASE_MEAN * rng.lognormal(0, COEF_NOISE, m), 4),
        }
    )
    frame = frame.iloc[rng.permutation(m)].reset_index(drop=True)
    counts = {
        "coeff_rows": m,
        "customers_without_coeffs": missing,
        "coeffs_without_profile": COEFF_ONLY,
    }
    return frame, counts


# ---- the purchase model -------------------------------------------------------------
def _day_factors() -> NDArray[np.float64]:
    days = np.arange(DAYS)
    weekday = np.array([(DAY_ZERO + timedelta(days=int(d))).weekday() for d in days])
    factors: NDArray[np.float64] = (1 + TREND * days) * np.asarray(WEEKDAY)[weekday]
    return factors


def _mask(days: Sequence[int] | tuple[int, int], *, span: bool) -> NDArray[np.bool_]:
    d = np.arange(DAYS)
    if span:
        return (d >= days[0]) & (d <= days[1])
    return np.isin(d, days)


def _product_weights() -> NDArray[np.float64]:
    """P(product) of a line, per persona (rows: personas, columns: CATALOGUE)."""
    base = np.array([p.weight for p in CATALOGUE])
    likes = np.array([[p.name in q.likes for p in CATALOGUE] for q in PERSONAS])
    w = base[None, :] * np.where(likes, LIKE_BOOST, 1.0)
    out: NDArray[np.float64] = w / w.sum(axis=1, keepdims=True)
    return out


def _sale_shares() -> NDArray[np.float64]:
    return np.array([q.sale for q in PERSONAS])


def _line_costs() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Expected cost of a line off and on the email promotion, per persona (exact)."""
    w = _product_weights()
    price = np.array([p.price for p in CATALOGUE], dtype=np.float64)
    sale = _sale_shares()[:, None]
    normal = (1 - sale) * price[None, :] + sale * np.rint(BASE_SALE_FACTOR * price)[None, :]
    promo = np.rint((1 - EMAIL_DISCOUNT) * price)
    return (w * normal).sum(axis=1), w @ promo


def email_extra(age: NDArray[np.int64]) -> NDArray[np.float64]:
    """The planted extra daily purchase probability of the email (:data:`EMAIL_EXTRA_BY_AGE`)."""
    lift = np.zeros(age.shape)
    for low, high, value in EMAIL_EXTRA_BY_AGE:
        lift[(age >= low) & (age < high)] = value
    return lift


@dataclass
class _Expect:
    """Per-customer expectations accumulated while the orders are drawn."""

    conversion: NDArray[np.float64]
    orders: NDArray[np.float64]
    pre_conversion: NDArray[np.float64]
    pre_orders: NDArray[np.float64]
    planted: NDArray[np.float64]  # P(buy in PROPENSITY_WINDOW | history, rate, dropout)
    label: NDArray[np.bool_]  # bought in PROPENSITY_WINDOW
    city_day: NDArray[np.float64]  # (city index, day): expected orders
    city_day_plain: NDArray[np.float64]  # the same without the city lift


def _probabilities(
    base: NDArray[np.float64],
    extra: NDArray[np.float64],
    in_city: NDArray[np.bool_],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``p`` (customers × days) of buying if still active, and the same without the city lift.

    ``extra`` is each customer's extra probability on the email window (0 outside the
    treatment arm).
    """
    factors = _day_factors()
    email = extra[:, None] * _mask(EMAIL_WINDOW, span=True)[None, :]
    plain = base[:, None] * factors[None, :] + email
    city = 1 + CITY_LIFT * (in_city[:, None] & _mask(CITY_DAYS, span=False)[None, :])
    return np.minimum(plain * city, 1.0), np.minimum(plain, 1.0)


@dataclass(frozen=True)
class _Rates:
    """Daily purchase probabilities while active (customers × days): first purchase, repeat."""

    first: NDArray[np.float64]
    repeat: NDArray[np.float64]
    dropout: NDArray[np.float64]  # per customer


def _states(r: _Rates) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """P(not bought yet), P(bought and still active) at the start of each day, exactly.

    The first purchase never ends activity; after a repeat purchase the customer stops
    with probability ``dropout`` (as in BG/NBD).
    """
    new = np.ones(r.first.shape[0])
    kept = np.zeros(r.first.shape[0])
    out_new, out_kept = np.empty_like(r.first), np.empty_like(r.first)
    for d in range(r.first.shape[1]):
        out_new[:, d], out_kept[:, d] = new, kept
        new, kept = (
            new * (1 - r.first[:, d]),
            kept * (1 - r.repeat[:, d] * r.dropout) + new * r.first[:, d],
        )
    return out_new, out_kept


def _expected_orders(r: _Rates) -> NDArray[np.float64]:
    """P(an order on each day) (customers × days)."""
    new, kept = _states(r)
    out: NDArray[np.float64] = new * r.first + kept * r.repeat
    return out


def _conversion(r: _Rates, days: tuple[int, int]) -> NDArray[np.float64]:
    """P(at least one purchase in ``days``) (both states stay as they are until a purchase)."""
    new, kept = _states(r)
    first, last = days
    span = slice(first, last + 1)
    out: NDArray[np.float64] = new[:, first] * (1 - np.prod(1 - r.first[:, span], axis=1)) + kept[
        :, first
    ] * (1 - np.prod(1 - r.repeat[:, span], axis=1))
    return out


def _simulate(rng: np.random.Generator, r: _Rates) -> NDArray[np.bool_]:
    """Purchase days (customers × days), drawn day by day from the states of :func:`_states`."""
    u, v = rng.random(r.first.shape), rng.random(r.first.shape)
    active = np.ones(r.first.shape[0], dtype=bool)
    bought = np.zeros(r.first.shape[0], dtype=bool)
    buys = np.zeros(r.first.shape, dtype=bool)
    for d in range(r.first.shape[1]):
        p = np.where(bought, r.repeat[:, d], r.first[:, d])
        buys[:, d] = active & (u[:, d] < p)
        active &= ~(buys[:, d] & bought & (v[:, d] < r.dropout))
        bought |= buys[:, d]
    return buys


def _planted_propensity(buys: NDArray[np.bool_], r: _Rates) -> NDArray[np.float64]:
    """P(buy in :data:`PROPENSITY_WINDOW` | purchase days before it, rates, dropout): Bayes.

    No purchase before: the first-purchase rate. One: surely active, the repeat rate. More:
    active unless they stopped after the last purchase (``dropout``); the quiet days since
    (probability ``Π(1 − p)`` if active, 1 if not) update that.
    """
    first, last = PROPENSITY_WINDOW
    past = buys[:, :first]
    count = past.sum(axis=1)
    last_day = np.where(count > 0, first - 1 - np.argmax(past[:, ::-1], axis=1), -1)
    days = np.arange(first)[None, :]
    quiet = np.prod(np.where(days > last_day[:, None], 1 - r.repeat[:, :first], 1.0), axis=1)
    q = r.dropout
    active = np.where(count >= 2, (1 - q) * quiet / ((1 - q) * quiet + q), 1.0)
    span = slice(first, last + 1)
    buy_first = 1 - np.prod(1 - r.first[:, span], axis=1)
    buy_repeat = 1 - np.prod(1 - r.repeat[:, span], axis=1)
    out: NDArray[np.float64] = np.where(count == 0, buy_first, active * buy_repeat)
    return out


@dataclass
class _Lines:
    customer: NDArray[np.int64]  # index into people
    day: NDArray[np.int64]
    product: NDArray[np.int64]  # index into CATALOGUE
    spelling: NDArray[np.int64]  # index into the spellings table
    colour: NDArray[np.int64]  # index into the colours table
    cost: NDArray[np.int64]
    sex: NDArray[np.int64]  # −1 = NULL
    base_sale: NDArray[np.int64]

    def key(self) -> NDArray[np.int64]:
        return np.stack(
            [
                self.customer,
                self.day,
                self.spelling,
                self.colour,
                self.cost,
                self.sex,
                self.base_sale,
            ],
            axis=1,
        )

    def take(self, index: NDArray[np.int64]) -> _Lines:
        return _Lines(*(getattr(self, f)[index] for f in _LINE_FIELDS))

    @staticmethod
    def concat(parts: Sequence[_Lines]) -> _Lines:
        return _Lines(*(np.concatenate([getattr(p, f) for p in parts]) for f in _LINE_FIELDS))


_LINE_FIELDS = ("customer", "day", "product", "spelling", "colour", "cost", "sex", "base_sale")


def _spellings() -> tuple[list[str], NDArray[np.int64], NDArray[np.int64]]:
    """All product strings, each product's first string index and its variant count."""
    names: list[str] = []
    first, variants = [], []
    for p in CATALOGUE:
        first.append(len(names))
        variants.append(len(p.variants))
        names += [p.name, *p.variants]
    return names, np.array(first), np.array(variants)


def _colours() -> tuple[list[str], NDArray[np.float64]]:
    singles = list(COLOUR_WORDS)
    pairs = [f"{a}/{b}" for a in COLOUR_WORDS for b in COLOUR_WORDS if a != b]
    weights = np.r_[np.full(len(singles), 3.0), np.ones(len(pairs))]
    return singles + pairs, weights / weights.sum()


def _colour_weights() -> tuple[list[str], NDArray[np.float64]]:
    """All colour strings and P(colour) per persona (its primary colour boosted)."""
    colours, base = _colours()
    first = np.array([c.split("/")[0].replace("ё", "е") for c in colours])
    liked = np.array([q.colour.replace("ё", "е") for q in PERSONAS])
    w = base[None, :] * np.where(first[None, :] == liked[:, None], LIKE_BOOST, 1.0)
    out: NDArray[np.float64] = w / w.sum(axis=1, keepdims=True)
    return colours, out


def _draw(rng: np.random.Generator, probabilities: NDArray[np.float64]) -> NDArray[np.int64]:
    """One category per row of ``probabilities`` (inverse CDF, vectorised)."""
    cum = np.cumsum(probabilities, axis=1)
    u = rng.random(probabilities.shape[0]) * cum[:, -1]
    out: NDArray[np.int64] = (u[:, None] >= cum).sum(axis=1).astype(np.int64)
    return out


def _draw_lines(
    rng: np.random.Generator,
    customer: NDArray[np.int64],
    day: NDArray[np.int64],
    promo: NDArray[np.bool_],
    persona: NDArray[np.int64],
) -> _Lines:
    """The lines of the given orders (one per (customer, day); promo flag and persona per order)."""
    items = 1 + rng.poisson(EXTRA_ITEMS, size=customer.size)
    who, when, on_promo, kind = (np.repeat(a, items) for a in (customer, day, promo, persona))
    m = who.size
    product = _draw(rng, _product_weights()[kind])
    _, first, variants = _spellings()
    variant = np.where(
        rng.random(m) < CANONICAL_SHARE, 0, 1 + np.floor(rng.random(m) * variants[product])
    ).astype(np.int64)
    colours, colour_p = _colour_weights()
    colour = _draw(rng, colour_p[kind])
    sex_p = np.array([p.sex for p in CATALOGUE])
    u = rng.random(m)
    sex = np.where(
        u < sex_p[product, 0], 0, np.where(u < sex_p[product, 0] + sex_p[product, 1], 1, -1)
    )
    price = np.array([p.price for p in CATALOGUE], dtype=np.float64)[product]
    on_sale = rng.random(m) < _sale_shares()[kind]
    cost = np.where(
        on_promo,
        np.rint((1 - EMAIL_DISCOUNT) * price),
        np.where(on_sale, np.rint(BASE_SALE_FACTOR * price), price),
    ).astype(np.int64)
    lines = _Lines(
        who.astype(np.int64),
        when.astype(np.int64),
        product.astype(np.int64),
        first[product] + variant,
        colour.astype(np.int64),
        cost,
        sex.astype(np.int64),
        (on_promo.astype(bool) | on_sale).astype(np.int64),
    )
    _unique_lines(rng, lines, len(colours))
    return lines


def _repeats(key: NDArray[np.int64]) -> NDArray[np.int64]:
    """Rows equal in every column to an earlier row."""
    _, first = np.unique(key, axis=0, return_index=True)
    seen = np.zeros(key.shape[0], dtype=bool)
    seen[first] = True
    return np.flatnonzero(~seen)


def _unique_lines(rng: np.random.Generator, lines: _Lines, colours: int) -> None:
    # Two items of one order alike in every column would read as a planted duplicate:
    # redraw such a line's colour (price and product untouched, so expectations hold).
    while (again := _repeats(lines.key())).size:
        lines.colour[again] = rng.integers(0, colours, size=again.size)


def _orders(
    people: _People,
    n: int,
    treated: NDArray[np.bool_],
    seed: int,
) -> tuple[_Lines, _Expect]:
    buyers = people.ids.size
    in_city = people.city == CITY
    window = _mask(EMAIL_WINDOW, span=True)
    city_of = np.searchsorted(np.sort(people.city_codes), people.city)
    sorted_codes = np.sort(people.city_codes)
    extra = email_extra(people.age) * treated
    expect = _Expect(
        conversion=np.zeros(buyers),
        orders=np.zeros(buyers),
        pre_conversion=np.zeros(buyers),
        pre_orders=np.zeros(buyers),
        planted=np.zeros(buyers),
        label=np.zeros(buyers, dtype=bool),
        city_day=np.zeros((sorted_codes.size, DAYS)),
        city_day_plain=np.zeros((sorted_codes.size, DAYS)),
    )
    parts = []
    for chunk, start in enumerate(range(0, buyers, CHUNK)):
        stop = min(start + CHUNK, buyers)
        rng = _rng(seed, _Draw.ORDERS, chunk)
        part = slice(start, stop)
        p_first, plain_first = _probabilities(people.first[part], extra[part], in_city[part])
        p_repeat, plain_repeat = _probabilities(people.base[part], extra[part], in_city[part])
        rates = _Rates(p_first, p_repeat, people.dropout[part])
        expected = _expected_orders(rates)
        expect.conversion[part] = _conversion(rates, EMAIL_WINDOW)
        expect.orders[part] = expected[:, window].sum(axis=1)
        expect.pre_conversion[part] = _conversion(rates, PRE_WINDOW)
        expect.pre_orders[part] = expected[:, _mask(PRE_WINDOW, span=True)].sum(axis=1)
        profiled = np.arange(start, stop) < n  # orphan buyers have no city
        rows = city_of[part][profiled]
        np.add.at(expect.city_day, rows, expected[profiled])
        plain = _expected_orders(_Rates(plain_first, plain_repeat, people.dropout[part]))
        np.add.at(expect.city_day_plain, rows, plain[profiled])
        buys = _simulate(rng, rates)
        expect.planted[part] = _planted_propensity(buys, rates)
        first, last = PROPENSITY_WINDOW
        expect.label[part] = buys[:, first : last + 1].any(axis=1)
        who, day = np.nonzero(buys)
        who = who + start
        promo = treated[who] & window[day]
        parts.append(
            _draw_lines(rng, who.astype(np.int64), day.astype(np.int64), promo, people.persona[who])
        )
    return _Lines.concat(parts), expect


def _anomalies(
    lines: _Lines, people: _People, eligible: NDArray[np.bool_], seed: int
) -> tuple[_Lines, dict[str, int]]:
    """Add the planted duplicate, zero-cost and negative-cost lines (see the module doc)."""
    rng = _rng(seed, _Draw.ANOMALIES)
    hosts_ok = ~eligible[lines.customer] & (people.city[lines.customer] != CITY)
    need = DUPLICATE_HOSTS + ZERO_COST + NEGATIVE_COST
    hosts = rng.choice(np.flatnonzero(hosts_ok), size=need, replace=False)
    dup = hosts[:DUPLICATE_HOSTS]
    dup = np.concatenate([dup, dup[:TRIPLED]])
    zero = lines.take(hosts[DUPLICATE_HOSTS : DUPLICATE_HOSTS + ZERO_COST])
    zero.cost[:] = 0
    negative = lines.take(hosts[DUPLICATE_HOSTS + ZERO_COST :])
    negative.cost *= -1  # a return of the same item
    clean = lines.customer.size
    extra = _Lines.concat([lines.take(dup), zero, negative])
    extra_lines = _Lines.concat([lines, extra])
    order = np.argsort(extra_lines.day, kind="stable")
    counts = {
        "lines": int(extra_lines.customer.size),
        "duplicate_lines": int(dup.size),
        "zero_cost": ZERO_COST,
        "negative_cost": NEGATIVE_COST,
        "clean_lines": clean,
    }
    return extra_lines.take(order), counts


# ---- lists --------------------------------------------------------------------------
def _list_text(
    rng: np.random.Generator,
    ids: NDArray[np.int64],
    name: str,
    both: set[int],
    unknown: set[int],
) -> tuple[str, dict[str, Any]]:
    """One messy list: the header, the ids (some quoted or as ``n.0``), duplicates, strays."""
    ids = ids[rng.permutation(ids.size)]
    written = [str(int(i)) for i in ids]
    styled = rng.choice(ids.size, size=QUOTED[name] + DECIMALS[name], replace=False)
    for k, pos in enumerate(styled):
        written[pos] = f'"{written[pos]}"' if k < QUOTED[name] else f"{written[pos]}.0"
    dups = rng.choice(ids, size=DUPLICATE_IDS[name], replace=True)
    units = written + [str(int(i)) for i in dups]
    for phrase, count in STRAYS[name].items():
        units += [phrase] * count
    units = [units[k] for k in rng.permutation(len(units))]
    seps = rng.choice(len(SEPARATORS), size=len(units), p=SEPARATOR_WEIGHTS)
    body = "".join(u + SEPARATORS[s] for u, s in zip(units, seps, strict=True))
    text = HEADER + "\n" + body
    non_ids: dict[str, int] = {HEADER: 1}
    for phrase, count in STRAYS[name].items():
        for word in phrase.split():
            non_ids[word] = non_ids.get(word, 0) + count
    all_ids = [int(i) for i in ids] + [int(i) for i in dups]
    unknown_n = sum(int(i) in unknown for i in ids)
    both_n = sum(int(i) in both for i in ids)
    stray_tokens = sum(c * len(p.split()) for p, c in STRAYS[name].items())
    counts: dict[str, Any] = {
        "tokens": 1 + len(written) + len(dups) + stray_tokens,
        "ids": int(ids.size),
        "duplicates": int(dups.size),
        "non_ids": non_ids,
        "header": HEADER,
        "unknown_ids": unknown_n,
        "in_both": both_n,
        "in_both_tokens": sum(i in both for i in all_ids),
        "unknown_tokens": sum(i in unknown for i in all_ids),
        "quoted": QUOTED[name],
        "decimals": DECIMALS[name],
        "accepted": int(ids.size) - unknown_n - both_n,
    }
    return text, counts


# ---- truth --------------------------------------------------------------------------
def _arm_metrics(
    conversion: NDArray[np.float64], orders: NDArray[np.float64], cost: NDArray[np.float64]
) -> dict[str, float | int]:
    """Per-participant expectations of one arm (ratios are ratios of expectations)."""
    items_per_order = 1 + EXTRA_ITEMS
    buying, ordering = float(conversion.mean()), float(orders.mean())
    items = ordering * items_per_order
    revenue = float((orders * items_per_order * cost).mean())
    return {
        "participants": int(conversion.size),
        "conversion": buying,
        "orders": ordering,
        "items": items,
        "revenue": revenue,
        "average_check": revenue / ordering,
        "revenue_per_buyer": revenue / buying,
        "items_per_buyer": items / buying,
    }


AGE_GROUPS = ((0, 30, "<30"), (30, 50, "30–49"), (50, 200, "50+"))
"""The age groups the uplift truth is stated for (as ``gl.propensity`` names them)."""


def _email_truth(
    expect: _Expect,
    people: _People,
    treatment: NDArray[np.bool_],
    control: NDArray[np.bool_],
    lists: dict[str, Any],
) -> dict[str, Any]:
    normal, promo = (c[people.persona] for c in _line_costs())
    expected: dict[str, dict[str, float | int]] = {}
    expected_pre: dict[str, dict[str, float | int]] = {}
    for arm, mask, cost in (("treatment", treatment, promo), ("control", control, normal)):
        expected[arm] = _arm_metrics(expect.conversion[mask], expect.orders[mask], cost[mask])
        expected_pre[arm] = _arm_metrics(
            expect.pre_conversion[mask], expect.pre_orders[mask], normal[mask]
        )
    metrics = [k for k in expected["treatment"] if k != "participants"]
    t, c = expected["treatment"], expected["control"]
    by_age: dict[str, dict[str, float | int]] = {}
    for low, high, label in AGE_GROUPS:
        group = (people.age >= low) & (people.age < high)
        tm, cm = treatment & group, control & group
        buy_t, buy_c = float(expect.conversion[tm].mean()), float(expect.conversion[cm].mean())
        by_age[label] = {
            "treatment": int(tm.sum()),
            "control": int(cm.sum()),
            "conversion_treatment": buy_t,
            "conversion_control": buy_c,
            "uplift": buy_t - buy_c,
        }
    return {
        "extra_by_age": [list(band) for band in EMAIL_EXTRA_BY_AGE],
        "discount": EMAIL_DISCOUNT,
        "window": list(EMAIL_WINDOW),
        "pre_window": list(PRE_WINDOW),
        "eligible": int(lists["eligible"]),
        "assigned": lists["assigned"],
        "in_both": IN_BOTH,
        "participants": {"treatment": t["participants"], "control": c["participants"]},
        "expected": expected,
        "expected_pre": expected_pre,
        "difference": {k: t[k] - c[k] for k in metrics},
        "relative": {k: t[k] / c[k] - 1 for k in metrics},
        "uplift_by_age": by_age,
    }


def _city_truth(expect: _Expect, people: _People, n: int) -> dict[str, Any]:
    codes = np.sort(people.city_codes)
    row = int(np.searchsorted(codes, CITY))
    camp = _mask(CITY_DAYS, span=False)
    treated = expect.city_day[row]
    plain = expect.city_day_plain[row]
    comparison = np.delete(expect.city_day, row, axis=0).sum(axis=0)
    units = codes.size - 1
    naive = treated[camp].mean() / treated[~camp].mean()
    ratio_c = comparison[camp].mean() / comparison[~camp].mean()
    did_add = (treated[camp].mean() - treated[~camp].mean()) - (
        comparison[camp].mean() - comparison[~camp].mean()
    ) / units
    ratio = naive / ratio_c
    return {
        "city": CITY,
        "days": list(CITY_DAYS),
        "lift": CITY_LIFT,
        "customers": int((people.city[:n] == CITY).sum()),
        "cities": int(codes.size),
        "comparison_cities": units,
        "ratio_of_ratios": float(ratio),
        "naive_ratio": float(naive),
        "comparison_ratio": float(ratio_c),
        "naive_bias": float(naive - ratio),
        "naive_relative_bias": float(naive / ratio - 1),
        "additive": float((treated[camp] - plain[camp]).mean()),
        "did_additive": float(did_add),
        "expected_orders_treated": treated.tolist(),
        "expected_orders_comparison": comparison.tolist(),
    }


def _model_truth(people: _People) -> dict[str, Any]:
    normal, promo = _line_costs()
    names = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    sizes = np.bincount(
        np.searchsorted(
            people.city_codes, people.city[people.city >= 0], sorter=np.argsort(people.city_codes)
        ),
        minlength=N_CITIES,
    )
    order = np.argsort(people.city_codes)
    return {
        "base_mean": BASE_MEAN,
        "base_shape": BASE_SHAPE,
        "base_cap": BASE_CAP,
        "trend_per_day": TREND,
        "weekday": dict(zip(names, WEEKDAY, strict=True)),
        "extra_items_mean": EXTRA_ITEMS,
        "items_per_order": 1 + EXTRA_ITEMS,
        "base_sale_factor": BASE_SALE_FACTOR,
        "line_cost_by_persona": dict(zip([q.name for q in PERSONAS], normal.tolist(), strict=True)),
        "line_cost_promo_by_persona": dict(
            zip([q.name for q in PERSONAS], promo.tolist(), strict=True)
        ),
        "catalogue": {p.name: {"price": p.price, "weight": p.weight} for p in CATALOGUE},
        "city_sizes": {
            str(int(people.city_codes[order][k])): int(sizes[k])
            for k in np.argsort(-sizes, kind="stable")
        },
    }


def _auc(score: NDArray[np.float64], label: NDArray[np.bool_]) -> float:
    """ROC-AUC by the Mann–Whitney rank sum (ties share their mean rank)."""
    ranks = rankdata(score)
    pos = int(label.sum())
    neg = label.size - pos
    return float((ranks[label].sum() - pos * (pos + 1) / 2) / (pos * neg))


def _customers_truth(people: _People, expect: _Expect, n: int) -> dict[str, Any]:
    """Planted personas, purchase process, propensity model and leak (issue 17)."""
    factors = _day_factors()
    alpha = BASE_SHAPE / BASE_MEAN
    sizes = np.bincount(people.persona[:n], minlength=len(PERSONAS))
    return {
        "personas": {
            q.name: {
                "customers": int(sizes[k]),
                "share": q.share,
                "age": list(q.age),
                "male": q.male,
                "higher": q.higher,
                "likes": list(q.likes),
                "colour": q.colour,
                "sale": q.sale,
            }
            for k, q in enumerate(PERSONAS)
        },
        "bgnbd": {
            "r": BASE_SHAPE,
            "alpha": alpha,
            "a": DROPOUT_A,
            "b": DROPOUT_B,
            "weekday_mean": float(factors.mean()),
            "alpha_effective": float(alpha / factors.mean()),
            "cap": BASE_CAP,
            "unit": "day",
        },
        "propensity": {
            "window": list(PROPENSITY_WINDOW),
            "target": "any",
            "customers": int(expect.label.size),
            "base_rate": float(expect.label.mean()),
            "planted_auc": _auc(expect.planted, expect.label),
        },
        "leak": {"table": LEAK_TABLE, "column": LEAK_COLUMN, "window": list(PROPENSITY_WINDOW)},
        "per_customer_file": FILES["truth_customers"],
    }


def _customers_file(people: _People, expect: _Expect) -> bytes:
    """The per-customer truth file: persona, rate, dropout, email lift, planted propensity."""
    frame = pd.DataFrame(
        {
            "id": people.ids,
            "persona": np.array([q.name for q in PERSONAS], dtype=object)[people.persona],
            "rate": np.round(people.base, 6),
            "dropout": np.round(people.dropout, 6),
            "email_extra": email_extra(people.age),
            "planted_propensity": np.round(expect.planted, 6),
            "bought_in_window": expect.label.astype(int),
        }
    )
    return gzip.compress(frame.to_csv(index=False, lineterminator="\n").encode(), mtime=0)


# ---- writing ------------------------------------------------------------------------
def _write_database(
    path: Path,
    people: _People,
    profiles: _Profiles,
    coeffs: pd.DataFrame,
    lines: _Lines,
    snapshot: pd.DataFrame,
) -> None:
    path.unlink(missing_ok=True)
    spellings, _, _ = _spellings()
    colours, _ = _colours()
    db = profiles.db
    education = _education(people.higher[db])
    with sqlite3.connect(path) as con:
        con.execute(
            "CREATE TABLE personal_data (id INTEGER, gender INTEGER, age INTEGER, "
            "education TEXT, city INTEGER, country INTEGER)"
        )
        con.executemany(
            "INSERT INTO personal_data VALUES (?, ?, ?, ?, ?, ?)",
            zip(
                people.ids[db].tolist(),
                people.gender[db].tolist(),
                people.age[db].tolist(),
                education,
                people.city[db].tolist(),
                people.country[db].tolist(),
                strict=True,
            ),
        )
        con.execute(
            "CREATE TABLE personal_data_coeffs (id INTEGER, lbt_coef REAL, ac_coef REAL, "
            "sm_coef REAL, personal_coef REAL)"
        )
        con.executemany(
            "INSERT INTO personal_data_coeffs VALUES (?, ?, ?, ?, ?)",
            coeffs.itertuples(index=False, name=None),
        )
        con.execute(
            "CREATE TABLE purchases (id INTEGER, product TEXT, colour TEXT, cost INTEGER, "
            "product_sex INTEGER, base_sale INTEGER, dt INTEGER)"
        )
        spelling = np.array(spellings, dtype=object)[lines.spelling]
        colour = np.array(colours, dtype=object)[lines.colour]
        sex = [None if v < 0 else v for v in lines.sex.tolist()]
        con.executemany(
            "INSERT INTO purchases VALUES (?, ?, ?, ?, ?, ?, ?)",
            zip(
                people.ids[lines.customer].tolist(),
                spelling.tolist(),
                colour.tolist(),
                lines.cost.tolist(),
                sex,
                lines.base_sale.tolist(),
                lines.day.tolist(),
                strict=True,
            ),
        )
        con.execute(f"CREATE TABLE {LEAK_TABLE} (id INTEGER, {LEAK_COLUMN} INTEGER)")
        con.executemany(
            f"INSERT INTO {LEAK_TABLE} VALUES (?, ?)", snapshot.itertuples(index=False, name=None)
        )
    con.close()


def write_shop(folder: Path, *, customers: int = 20_000, seed: int = 0) -> ShopTruth:
    """Write the shop case's files into ``folder`` and return their planted truth.

    ``customers`` is the number of customers with a profile (at least
    :data:`MIN_CUSTOMERS`, so the fixed planted counts fit); the files are a function of
    ``(customers, seed)`` only, byte for byte. The model and the truth's definitions are
    in the module doc.

    Raises:
        ValueError: ``customers`` below :data:`MIN_CUSTOMERS`, or ``seed`` negative.
    """
    if customers < MIN_CUSTOMERS:
        raise ValueError(f"customers must be at least {MIN_CUSTOMERS:,}; got {customers!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = customers
    people = _people(n, seed)
    profiles = _profiles(people, n, seed)
    coeffs, coeff_counts = _coefficients(people, n, seed)

    rng = _rng(seed, _Draw.ASSIGNMENT)
    eligible_index = rng.choice(n, size=n // 2, replace=False)
    half = eligible_index.size // 2
    buyers = people.ids.size
    treated = np.zeros(buyers, dtype=bool)
    treated[eligible_index[:half]] = True
    control = np.zeros(buyers, dtype=bool)
    control[eligible_index[half:]] = True
    both_index = rng.choice(eligible_index[:half], size=IN_BOTH, replace=False)
    in_both = np.zeros(buyers, dtype=bool)
    in_both[both_index] = True

    lines, expect = _orders(people, n, treated, seed)
    lines, cleaning = _anomalies(lines, people, treated | control, seed)

    both_ids = {int(i) for i in people.ids[both_index]}
    lists: dict[str, Any] = {}
    positive_ids = np.concatenate([people.ids[treated], people.unknown["positive"]])
    negative_ids = np.concatenate(
        [people.ids[control], people.ids[both_index], people.unknown["negative"]]
    )
    for number, (name, ids) in enumerate((("positive", positive_ids), ("negative", negative_ids))):
        text, counts = _list_text(
            _rng(seed, _Draw.LISTS, number),
            ids,
            name,
            both_ids,
            {int(i) for i in people.unknown[name]},
        )
        (folder / FILES[name]).write_bytes(text.encode("utf-8"))
        lists[name] = counts

    rng = _rng(seed, _Draw.SNAPSHOT)
    in_crm = rng.permutation(n)
    snapshot = pd.DataFrame(
        {"id": people.ids[in_crm], LEAK_COLUMN: expect.label[in_crm].astype(np.int64)}
    )
    _write_database(folder / FILES["database"], people, profiles, coeffs, lines, snapshot)
    (folder / FILES["truth_customers"]).write_bytes(_customers_file(people, expect))
    csv = io.BytesIO()
    profiles.csv.to_csv(csv, index=False, lineterminator="\n")
    (folder / FILES["profiles_csv"]).write_bytes(gzip.compress(csv.getvalue(), mtime=0))
    (folder / FILES["config"]).write_text(SHOP_TOML, encoding="utf-8")

    orders = np.unique(np.stack([lines.customer, lines.day], axis=1), axis=0).shape[0]
    cleaning |= {
        "orders": int(orders),
        "spelling_variants": int(np.unique(lines.spelling).size),
        "products": len(CATALOGUE),
    }
    profile_counts = (
        profiles.counts
        | coeff_counts
        | {
            "purchases_without_profile": int(np.unique(lines.customer[lines.customer >= n]).size),
            "customers_combined": n + COEFF_ONLY,
        }
    )
    truth = ShopTruth(
        shop_seed=seed,
        shop_customers=n,
        shop_days=DAYS,
        shop_day_zero=DAY_ZERO.isoformat(),
        shop_files=dict(FILES),
        shop_model=_model_truth(people),
        shop_email=_email_truth(
            expect,
            people,
            treated & ~in_both,
            control,
            {
                "eligible": eligible_index.size,
                "assigned": {"treatment": half, "control": eligible_index.size - half},
            },
        ),
        shop_city=_city_truth(expect, people, n),
        shop_lists=lists,
        shop_cleaning=cleaning,
        shop_profiles=profile_counts,
        shop_planted=_customers_truth(people, expect, n),
    )
    (folder / FILES["truth"]).write_text(
        json.dumps(truth.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return truth
