from __future__ import annotations

from pathlib import Path

import pytest

VISITS = (
    "Uid,Device,Start Ts,End Ts,Source Id\n"
    "18446744073709551615,touch,2017-06-01 10:00:00,2017-06-01 10:05:00,1\n"
    "9223372036854775808,desktop,2017-06-02 11:00:00,2017-06-02 10:59:00,2\n"
    "42,desktop,2017-06-03 12:00:00,2017-06-03 12:01:00,1\n"
)
ORDERS = (
    "Buy Ts,Revenue,Uid\n"
    "2017-06-01 10:03:00,5.5,18446744073709551615\n"
    "2017-06-02 12:00:00,0.0,9223372036854775808\n"
    "2017-06-03 12:00:00,2.25,42\n"
)
COSTS = "source_id,dt,costs\n1,2017-06-01,10.0\n2,2017-06-02,3.5\n1,2017-06-03,1.25\n"


@pytest.fixture
def afisha_files(tmp_path: Path) -> dict[str, Path]:
    """Three tiny files in the Yandex.Afisha layout (ids above 2**63 included)."""
    files = {}
    for name, text in (("visits", VISITS), ("orders", ORDERS), ("costs", COSTS)):
        path = tmp_path / f"{name}.csv"
        path.write_text(text)
        files[name] = path
    return files
