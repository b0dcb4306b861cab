"""Marketing unit economics: spend, CAC, ROMI and payback (DESIGN §4 "Marketing").

Every definition is written out with a worked example in docs/metrics.md, section
"Marketing". One module per concept:

- :mod:`.spend`: cost per period and source, paid and organic sources, cost gaps;
- :mod:`.cac`: buyers acquired per cohort and source, and what each cost;
- :mod:`.romi`: gross profit of those buyers against their cost, by cohort × age, and
  payback.

All aggregation runs in the engine; only period × source aggregates (and, for the budget
bootstrap, one row per buyer) leave it. The analyses (growthlens.analyses.costs, .cac,
.romi and .budget) summarise, word and draw these frames.
"""

from growthlens.metrics.marketing.cac import Acquisition, acquisition_costs, attribution_gap
from growthlens.metrics.marketing.romi import Romi, buyer_gross_profit, payback, romi_frames
from growthlens.metrics.marketing.spend import Spend, spend

__all__ = [
    "Acquisition",
    "Romi",
    "Spend",
    "acquisition_costs",
    "attribution_gap",
    "buyer_gross_profit",
    "payback",
    "romi_frames",
    "spend",
]
