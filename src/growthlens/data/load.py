"""``gl.load``: sources → canonical, validated tables in one backend → :class:`Dataset`."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from growthlens.config import Config, Settings, SourceSpec, TableSpec, make_settings
from growthlens.data import validate
from growthlens.data.canonical import SOURCE_RANK, canonicalize, numeric_ids, unify_ids
from growthlens.data.dataset import Dataset
from growthlens.data.mapping import ColumnMapping, resolve
from growthlens.data.model import TABLES, TableModel
from growthlens.data.quality import Finding, QualityReport, TableCounts
from growthlens.data.readers import RawSource, read_object, read_spec
from growthlens.engine import BackendLike, backend_name, connect
from growthlens.errors import ConfigError, DataError

Progress = Callable[[str], None]
TableInput = Any  # path | dict | SourceSpec | frame | ibis Table | list of those


def load(
    config: str | Path | Config | Mapping[str, Any] | None = None,
    *,
    sessions: TableInput = None,
    orders: TableInput = None,
    costs: TableInput = None,
    events: TableInput = None,
    touchpoints: TableInput = None,
    conversions_reference: TableInput = None,
    customers: TableInput = None,
    assignments: TableInput = None,
    backend: BackendLike = None,
    materialize: bool | None = None,
    progress: Progress | None = None,
    **settings: Any,
) -> Dataset:
    """Load, map, type and validate tables into one backend.

    Args:
        config: a ``growthlens.toml`` path, a parsed mapping or a :class:`Config`.
        sessions, orders, costs, events, touchpoints, conversions_reference, customers,
            assignments: each a path, ``{"path": ..., "columns": {...}}``, a list of those
            (unioned), a pandas/Polars/Arrow frame or an Ibis table. They override the
            config's table of the same name.
        backend: ``None``/``"duckdb"`` (default), ``"pyspark"``, an Ibis URL or backend.
        materialize: store typed tables in the backend (default: for row-oriented
            sources such as CSV; Parquet and database tables stay lazy).
        progress: called with a short description before each step.
        **settings: dataset settings (``timezone``, ``margin``, ``window``, …), over the
            config's ``[settings]``.

    Returns:
        The :class:`Dataset`; ``gl.quality(ds)`` shows what the load found.

    Raises:
        DataError: a source cannot be read or lacks a required column or type.
        ConfigError: an unknown setting or config key.

    Example:
        >>> import pandas as pd, growthlens as gl
        >>> visits = pd.DataFrame({"Uid": ["1", "2"], "Start Ts": ["2020-01-01 10:00", "2020-01-02 11:00"]})
        >>> ds = gl.load(sessions=visits)
        >>> ds.quality.table_counts("sessions").accepted
        2
    """
    cfg = _config(config)
    merged_settings = {**cfg.settings.model_dump(exclude_unset=True), **settings}
    resolved_settings = make_settings(**merged_settings)
    inputs = {
        "sessions": sessions,
        "orders": orders,
        "costs": costs,
        "events": events,
        "touchpoints": touchpoints,
        "conversions_reference": conversions_reference,
        "customers": customers,
        "assignments": assignments,
    }
    plan: dict[str, tuple[list[Any], str]] = {}
    for name, spec in cfg.tables.items():
        plan[name] = (list(spec.sources), spec.duplicates)
    for name, value in inputs.items():
        if value is not None:
            plan[name] = (_as_items(value), _policy_of(value))
    if not plan:
        raise ConfigError("no tables given: pass sessions=..., orders=..., costs=... or a config file")
    con = connect(backend, timezone=resolved_settings.timezone)
    return _Loader(con, resolved_settings, cfg.base_dir, materialize, progress).run(plan)


def _config(config: str | Path | Config | Mapping[str, Any] | None) -> Config:
    if config is None:
        return Config()
    if isinstance(config, Config):
        return config
    if isinstance(config, Mapping):
        return Config.from_mapping(config)
    return Config.from_toml(config)


def _as_items(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, Mapping) and "sources" in value:
        return list(TableSpec.model_validate(value).sources)
    return [value]


def _policy_of(value: Any) -> str:
    if isinstance(value, Mapping) and "duplicates" in value:
        return str(value["duplicates"])
    return "auto"


class _Loader:
    def __init__(
        self,
        con: BaseBackend,
        settings: Settings,
        base_dir: Path,
        materialize: bool | None,
        progress: Progress | None,
    ) -> None:
        self.con = con
        self.backend = backend_name(con)
        self.settings = settings
        self.base_dir = base_dir
        self.materialize = materialize
        self.progress = progress or (lambda _step: None)
        self.workdir = Path(tempfile.mkdtemp(prefix="growthlens-load-"))
        zone = ZoneInfo(settings.timezone) if settings.timezone else ZoneInfo("UTC")
        self.now = datetime.now(zone).replace(tzinfo=None)

    def run(self, plan: Mapping[str, tuple[list[Any], str]]) -> Dataset:
        typed: dict[str, ir.Table] = {}
        meta: dict[str, tuple[tuple[str, ...], Mapping[str, str], str | None, int, str]] = {}
        for name, (items, policy) in plan.items():
            self.progress(f"reading {name}")
            table, labels, mapping, preset, columnar = self._read_table(TABLES[name], items)
            meta[name] = (labels, mapping, preset, len(items), policy)
            typed[name] = (table, columnar)  # type: ignore[assignment]
        tables = {n: t for n, (t, _) in typed.items()}  # type: ignore[misc]
        tables = unify_ids(tables, self.backend)

        self.progress("checking rows")
        reasoned: dict[str, ir.Table] = {}
        policies: dict[str, str] = {}
        for name, table in tables.items():
            labels, _, _, n_sources, policy = meta[name]
            with_reason, policies[name] = validate.pre_window_reason(
                table, TABLES[name], policy=policy, sources=n_sources, now=self.now
            )
            columnar = typed[name][1]  # type: ignore[index]
            reasoned[name] = self._store(with_reason, columnar)

        ranges = {name: validate.time_range(t, TABLES[name]) for name, t in reasoned.items()}
        window, window_source = self._window(ranges)

        counts: list[TableCounts] = []
        findings: list[Finding] = []
        clean: dict[str, ir.Table] = {}
        for name, table in reasoned.items():
            model = TABLES[name]
            final = validate.with_window(table, model, window)
            by_reason = validate.count_reasons(final)
            accepted = by_reason.pop(None, 0)
            excluded = {str(k): v for k, v in by_reason.items()}
            accepted_rows = final.filter(final[validate.REASON].isnull())
            first, last = self._range(accepted_rows, model)
            labels, mapping, preset, _, _ = meta[name]
            counts.append(
                TableCounts(
                    table=name,
                    sources=labels,
                    loaded=accepted + sum(excluded.values()),
                    accepted=accepted,
                    excluded=sum(excluded.values()),
                    excluded_by_reason=excluded,
                    first=first,
                    last=last,
                    columns=tuple(c for c in final.columns if c not in (validate.REASON, SOURCE_RANK)),
                    mapping=mapping,
                    preset=preset,
                )
            )
            total = accepted + sum(excluded.values())
            for reason, n in sorted(excluded.items(), key=lambda kv: -kv[1]):
                findings.append(self._exclusion_finding(name, reason, n, total, final, window, policies[name]))
            if policies[name] == "keep":
                findings.extend(self._kept_duplicates(name, accepted_rows))
            clean[name] = accepted_rows.drop(validate.REASON, SOURCE_RANK)

        self.progress("cross-table checks")
        findings.extend(validate.flag_findings(clean))
        quality = QualityReport(
            counts=tuple(counts), findings=tuple(findings), window=window, window_source=window_source
        )
        return Dataset(tables=clean, backend=self.con, settings=self.settings, quality=quality)

    def _read_table(
        self, model: TableModel, items: Sequence[Any]
    ) -> tuple[ir.Table, tuple[str, ...], Mapping[str, str], str | None, bool]:
        parts: list[ir.Table] = []
        labels: list[str] = []
        mappings: list[ColumnMapping] = []
        columnar = True
        for rank, item in enumerate(items):
            raw, mapping, spec = self._read_source(model, item, rank)
            parts.append(canonicalize(raw, model, mapping, spec, rank=rank, backend=self.backend))
            labels.append(raw.label)
            mappings.append(mapping)
            columnar = columnar and raw.columnar
        table = _union(parts, model)
        id_cols = [c.name for c in model.columns if c.kind == "id"]
        table = numeric_ids(table, id_cols, self.backend)
        mapping_view = dict(mappings[0].canonical)
        preset = mappings[0].preset
        return table, tuple(labels), mapping_view, preset, columnar

    def _read_source(self, model: TableModel, item: Any, rank: int) -> tuple[RawSource, ColumnMapping, SourceSpec | None]:
        spec: SourceSpec | None = None
        if isinstance(item, str | Path):
            spec = SourceSpec(path=str(item))
        elif isinstance(item, SourceSpec):
            spec = item
        elif isinstance(item, Mapping):
            try:
                spec = SourceSpec(**item)
            except Exception as exc:
                raise ConfigError(f"{model.name}: bad source {dict(item)!r}: {exc}") from exc
        id_kinds = {c.name for c in model.columns if c.kind == "id"}
        explicit = dict(spec.columns) if spec else {}
        label = f"{model.name} {'frame' if spec is None else spec.path}"

        def id_headers(headers: Sequence[str]) -> list[str]:
            mapping = resolve(model, headers, explicit, source=label)
            return [h for c, h in mapping.canonical.items() if c in id_kinds]

        if spec is not None:
            raw = read_spec(self.con, spec, base_dir=self.base_dir, id_headers=id_headers, workdir=self.workdir)
        else:
            raw = read_object(self.con, item, label=f"the {model.name} frame")
        mapping = resolve(model, raw.table.columns, explicit, source=raw.label)
        return raw, mapping, spec

    def _store(self, table: ir.Table, columnar: bool) -> ir.Table:
        keep = self.materialize if self.materialize is not None else not columnar
        return table.cache() if keep else table

    def _window(self, ranges: Mapping[str, tuple[date | None, date | None]]) -> tuple[tuple[date, date] | None, str]:
        if self.settings.window is not None:
            return self.settings.window, "setting"
        firsts = [f for f, _ in ranges.values() if f is not None]
        lasts = [last for _, last in ranges.values() if last is not None]
        if not firsts or not lasts:
            return None, "none"
        start, end = max(firsts), min(lasts)
        if start > end:
            spans = ", ".join(f"{n} {f}..{last}" for n, (f, last) in ranges.items() if f)
            raise DataError(
                "the tables do not overlap in time, so there is no data window",
                expected="tables covering a common period",
                found=spans,
                fix="load matching exports or set window = [\"start\", \"end\"] in [settings]",
            )
        return (start, end), "tables"

    def _range(self, table: ir.Table, model: TableModel) -> tuple[date | None, date | None]:
        if not model.time_column:
            return None, None
        return validate.time_range(table, model)

    def _exclusion_finding(
        self, name: str, reason: str, n: int, total: int, table: ir.Table, window: tuple[date, date] | None, policy: str
    ) -> Finding:
        text = validate.EXCLUSION_TEXT.get(reason, reason)
        if reason == "out_of_window" and window:
            text = f"fall outside the data window {window[0]} – {window[1]}"
        if reason == "duplicate_key":
            text = f"duplicate another row's key (policy '{policy}': one row per key kept)"
        return Finding(
            table=name,
            check=reason,
            message=f"{n:,} of {total:,} {name} rows ({n / total:.1%}) {text}.",
            rows=n,
            action="excluded",
            effect="left out of every metric",
            severity="error" if reason in ("missing_value", "negative_revenue", "negative_cost") else "warning",
            examples=validate.reason_examples(table, reason),
        )

    def _kept_duplicates(self, name: str, table: ir.Table) -> list[Finding]:
        cols = [c for c in table.columns if c not in (validate.REASON, SOURCE_RANK)]
        total = int(table.count().to_pyarrow().as_py())
        distinct = int(table.select(*cols).distinct().count().to_pyarrow().as_py())
        n = total - distinct
        if not n:
            return []
        grouped = table.group_by(cols).aggregate(copies=table.count())
        return [
            Finding(
                table=name,
                check="identical_rows",
                message=f"{n:,} of {total:,} {name} rows ({n / total:.1%}) repeat another row exactly.",
                rows=n,
                action="kept",
                effect="kept (one export may hold identical real rows); set duplicates = \"first\" to drop them",
                severity="info",
                examples=validate.examples(grouped.filter(grouped.copies > 1)),
            )
        ]


def _union(parts: list[ir.Table], model: TableModel) -> ir.Table:
    if len(parts) == 1:
        return parts[0]
    # Align columns: a column missing from one source is null there.
    columns: dict[str, Any] = {}
    for p in parts:
        for c, t in p.schema().items():
            columns.setdefault(c, t)
    aligned = []
    for p in parts:
        exprs = {}
        for c, t in columns.items():
            if c in p.columns:
                col = p[c]
                exprs[c] = col if col.type() == t else (col.cast("string") if t.is_string() else col.cast(t))
            else:
                exprs[c] = ibis.null(t)
        aligned.append(p.select(**exprs))
    try:
        return ibis.union(*aligned, distinct=False)
    except Exception as exc:
        raise DataError(f"the sources of {model.name} cannot be combined: {exc}") from exc
