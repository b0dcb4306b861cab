"""Settings for the experiments case: day_zero, order_lines, experiments, campaigns."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import growthlens as gl
from growthlens.data.config import (
    CampaignSpec,
    Config,
    ExperimentSpec,
    as_date,
    day_number,
    make_settings,
)
from growthlens.demo.shop import SHOP_TOML
from growthlens.errors import ConfigError


def test_the_case_config_parses(tmp_path: Path) -> None:
    path = tmp_path / "growthlens.toml"
    path.write_text(SHOP_TOML, encoding="utf-8")
    settings = Config.from_toml(path).settings
    assert settings.day_zero == date(2023, 1, 1)
    assert settings.order_lines is True
    assert settings.currency == "RUB"
    assert settings.experiments == (
        ExperimentSpec(name="Email discount (first campaign)", window=(5, 16), pre_window=(0, 4)),
    )
    (campaign,) = settings.campaigns
    assert campaign.treated == {"city": 1134}
    assert campaign.period == [15, 45]
    assert campaign.metric == "orders"
    assert campaign.day_numbers(date(2023, 1, 1)) == (15, 45)
    hash(settings)  # Settings are part of the Dataset's fingerprint: must hash


def test_top_level_sections_mean_the_same(tmp_path: Path) -> None:
    text = (
        "[settings]\nday_zero = 2023-01-01\n"
        '[[experiments]]\nname = "A"\nwindow = [5, 16]\nexperiment = "first_company"\n'
        '[[campaigns]]\nname = "C"\ntreated = { city = [1, 2] }\nperiod = [[5, 7], 9]\n'
        'metric = "revenue"\n'
    )
    path = tmp_path / "growthlens.toml"
    path.write_text(text, encoding="utf-8")
    settings = Config.from_toml(path).settings
    assert settings.experiments[0].experiment == "first_company"
    assert settings.campaigns[0].day_numbers(date(2023, 1, 1)) == (5, 6, 7, 9)
    path.write_text(text.replace("[settings]\n", "[settings]\nexperiments = []\n", 1))
    with pytest.raises(ConfigError, match=r"both as \[\[experiments\]\] and"):
        Config.from_toml(path)


def test_day_number_window_becomes_dates() -> None:
    settings = make_settings(day_zero="2023-01-01", window=[5, 16])
    assert settings.window == (date(2023, 1, 6), date(2023, 1, 17))
    with pytest.raises(ConfigError, match=r"window = \[5, 16\] gives day numbers.*day_zero"):
        make_settings(window=[5, 16])


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"day_zero": 5}, r"\[settings\] day_zero: 5 is not a date"),
        (
            {"experiments": [{"name": "x", "window": [16, 5]}]},
            r"experiments.0: window starts after it ends: 16 > 5",
        ),
        (
            {"experiments": [{"name": "x", "window": [5, True]}]},
            r"experiments.0.window: a window day True is neither",
        ),
        (
            {"experiments": [{"name": "x", "window": [5, date(2023, 1, 9)]}]},
            r"window mixes a day number and a date",
        ),
        (
            {"experiments": [{"name": "x", "windw": [1, 2]}]},
            r"unknown key 'windw' in \[\[settings.experiments\]\].*did you mean 'window'",
        ),
        ({"experiments": [{"window": [1, 2]}]}, r"experiments.0.name: missing"),
        (
            {"campaigns": [{"name": "c", "treated": {}, "period": [1]}]},
            r"campaigns.0.treated: no customers column given.*treated = \{ city = 1134 \}",
        ),
        (
            {"campaigns": [{"name": "c", "treated": {"city": 1}, "period": []}]},
            r"campaigns.0.period: must be a list of days",
        ),
        (
            {"campaigns": [{"name": "c", "treated": {"city": 1}, "period": [[9, 5]]}]},
            r"the range \[9, 5\] is not \[first, last\]",
        ),
        (
            {"campaigns": [{"name": "c", "treated": {"city": 1}, "period": [1], "metric": "x"}]},
            r"campaigns.0.metric.*\"orders\", \"items\", \"revenue\" or \"buyers\"",
        ),
        ({"order_lines": "maybe"}, r"order_lines"),
    ],
)
def test_bad_values_name_the_key(values: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        make_settings(**values)


def test_day_helpers() -> None:
    assert as_date(5, date(2023, 1, 1)) == date(2023, 1, 6)
    assert day_number(date(2023, 1, 1), date(2023, 1, 6)) == -5
    with pytest.raises(ConfigError, match="day_zero"):
        as_date(5, None)
    spec = CampaignSpec(
        name="c", treated={"city": 1}, period=[(date(2023, 1, 2), date(2023, 1, 3))]
    )
    assert spec.day_numbers(date(2023, 1, 1)) == (1, 2)


def _orders(ts: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"user_id": [1, 2], "ts": ts, "revenue": [1.0, 2.0]})


def test_day_numbers_in_windows_need_day_number_data() -> None:
    dated = _orders(pd.to_datetime(["2023-01-01", "2023-01-02"]))
    experiments = [{"name": "Email", "window": [5, 16]}]
    with pytest.raises(ConfigError, match=r"'Email' give\(s\) days as day numbers.*dates"):
        gl.load(orders=dated, experiments=experiments)
    # Dates are fine on date data; day numbers on day-number data.
    ds = gl.load(orders=dated, experiments=[{"name": "E", "window": ["2023-01-01", "2023-01-02"]}])
    assert ds.settings.day_zero is None
    numbered = _orders(pd.Series([0, 1]))
    ds = gl.load(orders=numbered, experiments=experiments, day_zero="2023-01-01")
    assert ds.settings.experiments[0].window == (5, 16)
    assert ds.settings.day_zero == date(2023, 1, 1)


def test_day_zero_on_date_data_is_an_error() -> None:
    dated = _orders(pd.to_datetime(["2023-01-01", "2023-01-02"]))
    with pytest.raises(ConfigError, match=r"day_zero = 2023-01-01 says the data's time is day"):
        gl.load(orders=dated, day_zero="2023-01-01")
