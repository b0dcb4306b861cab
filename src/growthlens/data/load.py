"""``gl.load``: sources → canonical, validated tables in one backend → :class:`Dataset`."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.backends import BaseBackend
from pydantic import ValidationError

from growthlens.data import lengths, profile, validate
from growthlens.data.assignments import KNOWN_FROM, as_lists, lists_table, rule_table
from growthlens.data.canonical import (
    ID_COLUMNS,
    SOURCE_RANK,
    CanonicalSource,
    canonicalize,
    combine_date_time,
    date_time_header,
    id_type,
    unify_ids,
    union_sources,
)
from growthlens.data.combine import COMBINE, CombineCounts, combine_customers, combine_findings
from growthlens.data.combine import resolve_policy as resolve_combine
from growthlens.data.config import (
    EPOCH_DAY,
    CampaignSpec,
    Config,
    ExperimentSpec,
    ListsSpec,
    Settings,
    SourceSpec,
    TableSpec,
    _describe,
    make_settings,
)
from growthlens.data.databases import DATABASE_SUFFIXES, database_config, is_database
from growthlens.data.dataset import Dataset
from growthlens.data.firsts import (
    BUYER_VISITS,
    FIRST_ORDERS,
    first_orders,
    unique_first_sessions,
    with_sessionless_buyers,
)
from growthlens.data.firsts import first_sessions as first_sessions_of
from growthlens.data.layouts import (
    GA4_BIGQUERY,
    LOOKUP_KEY,
    add_constants,
    file_config,
    flatten_ga4,
    folder_config,
    is_data_file,
    is_ga4_nested,
    join_lookup,
    lookup_rows,
)
from growthlens.data.lines import orders_from_lines
from growthlens.data.mapping import ColumnMapping, resolve
from growthlens.data.quality import Finding, QualityReport, Severity, TableCounts
from growthlens.data.readers import RawSource, engine_message, is_excel, read_object, read_spec
from growthlens.data.severity import Money, grade
from growthlens.data.tables import TABLES, FlagRule, TableModel
from growthlens.data.tables.costs import (
    COSTS_SOURCE_OPTIONAL,
    FROM_CAMPAIGN,
    NO_SESSIONS,
    TO_FILL,
    SourceFill,
    fill_counts,
    fill_source,
)
from growthlens.data.tables.orders import ORDER_LINES
from growthlens.data.textfile import Limits
from growthlens.engine import BackendLike, DiskTables, capabilities, connect
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
        config: a ``growthlens.toml`` path, a parsed mapping or a :class:`Config`; or a
            folder or data file whose layout a preset recognises (a table-per-step
            export, the Olist funnel, a GA4 event export; docs/events.md), or a SQLite
            database, plain or zipped, whose tables a preset recognises (the Company X
            schema, the shop case, canonical table names; docs/data.md). A folder's
            ``growthlens.toml`` is read too: without table sections it adds its settings,
            experiments and campaigns to the folder's preset.
        sessions: a table's source(s): a path, ``{"path": ..., "columns": {...}}``,
            ``{"sources": [...], "duplicates": "first"}``, a list of those (unioned), a
            pandas/Polars/Arrow frame or an Ibis table. It overrides the config's table
            of the same name; paths are relative to the working directory.
        orders: as ``sessions``.
        costs: as ``sessions``.
        events: as ``sessions``.
        touchpoints: as ``sessions``.
        conversions_reference: as ``sessions``.
        customers: as ``sessions``.
        assignments: as ``sessions``; or participant lists, one text file of ids per
            variant: ``{"treatment": "a.txt", "control": "b.txt"}`` (optionally
            ``{"lists": {...}, "experiment": "name"}``; growthlens.data.assignments).
        backend: ``None``/``"duckdb"`` (default), ``"pyspark"``, an Ibis URL or backend.
        materialize: store typed tables in the backend (default: for row-oriented
            sources such as CSV and SQLite, and on DuckDB for tables whose duplicate
            policy ranks rows (a key such as ``session_id``, or several sources); other
            Parquet and DuckDB-file tables stay lazy).
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
        >>> visits = pd.DataFrame(
        ...     {"Uid": ["1", "2"], "Start Ts": ["2020-01-01 10:00", "2020-01-02 11:00"]}
        ... )
        >>> ds = gl.load(sessions=visits)
        >>> ds.quality.table_counts("sessions").accepted
        2
    """
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
    # The load's private work folder (extracted zip members, inflated copies): made first,
    # so a zipped database is extracted once, for the preset and every table it reads.
    workdir = Path(tempfile.mkdtemp(prefix="growthlens-load-"))
    try:
        dataset, disk = _load(config, inputs, backend, materialize, progress, settings, workdir)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    # Extracted zip members and tables stored on disk must outlive the load.
    weakref.finalize(dataset, _clean_up, disk, workdir)
    return dataset


def _clean_up(disk: DiskTables, workdir: Path) -> None:
    """Detach the load's database file, then remove its work folder."""
    disk.close()
    shutil.rmtree(workdir, ignore_errors=True)


def _load(
    config: str | Path | Config | Mapping[str, Any] | None,
    inputs: Mapping[str, TableInput],
    backend: BackendLike,
    materialize: bool | None,
    progress: Progress | None,
    settings: Mapping[str, Any],
    workdir: Path,
) -> tuple[Dataset, DiskTables]:
    cfg = _config(config, workdir=workdir, settings=settings)
    merged_settings = {**cfg.settings.model_dump(exclude_unset=True), **settings}
    resolved_settings = make_settings(**merged_settings)
    plan: dict[str, _TablePlan] = {}
    for name, spec in cfg.tables.items():
        plan[name] = _TablePlan(list(spec.sources), spec.duplicates, cfg.base_dir)
    lists, lists_dir = cfg.lists, cfg.base_dir
    for name, value in inputs.items():
        if value is None:
            continue
        given = as_lists(value) if name == "assignments" else None
        if given is not None:
            lists, lists_dir = given, Path.cwd()
            plan.pop(name, None)
            continue
        if name == "assignments":
            lists = None  # a table given to gl.load replaces the config's lists
        # Paths given to gl.load are relative to the working directory, not the config.
        items, policy = _as_items(name, value)
        plan[name] = _TablePlan(items, policy, Path.cwd())
    if lists is not None and not set(KNOWN_FROM) & set(plan):
        raise ConfigError(
            "participant lists (assignments from files of ids) need a table of the same "
            f"users to check their ids against: pass {', '.join(KNOWN_FROM)} as well"
        )
    if not plan:
        raise ConfigError(
            "no tables given: pass sessions=..., orders=..., costs=... or a config file "
            "with a [sessions]/[orders]/[costs] section"
        )
    engine = cfg.engine
    con = connect(
        backend if backend is not None else engine.connection(),
        timezone=resolved_settings.timezone,
        memory_limit=engine.memory_limit,
    )
    loader = _Loader(
        con, resolved_settings, materialize, progress, workdir, lists=lists, lists_dir=lists_dir
    )
    try:
        return loader.run(plan), loader.disk
    except BaseException:
        loader.disk.close()
        raise


@dataclass(frozen=True)
class _TablePlan:
    items: list[Any]
    policy: str
    base_dir: Path


def _config(
    config: str | Path | Config | Mapping[str, Any] | None,
    *,
    workdir: Path,
    settings: Mapping[str, Any],
) -> Config:
    if config is None:
        return Config()
    if isinstance(config, Config):
        return config
    if isinstance(config, Mapping):
        return Config.from_mapping(config)
    if isinstance(config, str | Path):
        if Path(config).expanduser().is_dir():
            # A folder of exports: a known layout says what its files are (docs/events.md),
            # and its growthlens.toml, if any, the rest.
            return _folder(Path(config).expanduser(), workdir=workdir, settings=settings)
        if is_data_file(Path(config)):
            # One export whose columns a preset recognises (a GA4 event export).
            return file_config(Path(config).expanduser())
        if is_database(Path(config)) and Path(config).expanduser().is_file():
            # A database whose tables a preset recognises (the Company X schema). Only the
            # caps of the given settings apply: a database brings no [settings].
            given = make_settings(**settings)
            limits = Limits(given.max_decompressed_bytes, given.max_compression_ratio)
            return database_config(Path(config).expanduser(), workdir=workdir, limits=limits)
        return Config.from_toml(config)
    raise ConfigError(
        f"config must be a path to growthlens.toml, a mapping or a Config; "
        f"got {type(config).__name__}"
    )


CONFIG_NAME = "growthlens.toml"


def _folder(folder: Path, *, workdir: Path, settings: Mapping[str, Any]) -> Config:
    """A folder's config: its ``growthlens.toml``, and the tables a preset finds.

    A ``growthlens.toml`` that names tables (or participant lists) is the whole config.
    One without (only ``[settings]``, experiments, campaigns, ``[engine]``) adds to the
    preset of the folder's files: the one database in it (Company X, the shop case,
    canonical table names), else the folder layouts (growthlens.data.layouts); its
    settings win over the preset's.
    """
    toml = folder / CONFIG_NAME
    own = Config.from_toml(toml) if toml.is_file() else None
    if own is not None and (own.tables or own.lists is not None):
        return own
    databases = sorted(
        p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(DATABASE_SUFFIXES)
    )
    if len(databases) == 1:
        # Only the caps apply here; the other settings are checked with the toml's.
        caps = ("max_decompressed_bytes", "max_compression_ratio")
        given = make_settings(**{k: v for k, v in settings.items() if k in caps})
        limits = Limits(given.max_decompressed_bytes, given.max_compression_ratio)
        preset = database_config(databases[0], workdir=workdir, limits=limits)
    else:
        preset = folder_config(folder)
    if own is None:
        return preset
    merged = {
        **preset.settings.model_dump(exclude_unset=True),
        **own.settings.model_dump(exclude_unset=True),
    }
    try:
        combined = make_settings(**merged)
    except ConfigError as exc:
        raise ConfigError(f"{toml}: {exc}") from exc
    return preset.model_copy(update={"settings": combined, "engine": own.engine})


def _as_items(name: str, value: Any) -> tuple[list[Any], str]:
    if isinstance(value, list | tuple):
        return list(value), "auto"
    if isinstance(value, Mapping):
        sources = value.get("sources")
        if isinstance(sources, list | tuple) and not all(
            isinstance(s, str | Path | Mapping) for s in sources
        ):
            # Frames or Ibis tables among the sources: only the other keys need validating,
            # so a placeholder path stands in for them.
            policy = TableSpec.model_validate({**value, "sources": ["frames"]})
            return list(sources), policy.duplicates
        try:
            spec = TableSpec.model_validate(value)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, name, shorthand="sources" not in value)) from exc
        return list(spec.sources), spec.duplicates
    return [value], "auto"


class _Loader:
    def __init__(
        self,
        con: BaseBackend,
        settings: Settings,
        materialize: bool | None,
        progress: Progress | None,
        workdir: Path,
        lists: ListsSpec | None = None,
        lists_dir: Path = Path("."),
    ) -> None:
        self.con = con
        # Participant lists (assignments from one file of ids per variant), paths resolved.
        self.lists = (
            None
            if lists is None
            else lists.model_copy(
                update={"lists": {v: str(lists_dir / p) for v, p in lists.lists.items()}}
            )
        )
        self.capabilities = capabilities(con)
        self.settings = settings
        self.materialize = materialize
        self.progress = progress or (lambda _step: None)
        self.workdir = workdir
        # Tables too large for the engine's memory are stored compressed in a file there.
        self.disk = DiskTables(con, workdir)
        self.limits = Limits(settings.max_decompressed_bytes, settings.max_compression_ratio)
        self.owned: list[str] = []
        self.day_numbers = False  # a time column was read from day numbers
        self.lookups: dict[tuple[str, str], tuple[RawSource, ir.Table]] = {}
        zone = ZoneInfo(settings.timezone) if settings.timezone else ZoneInfo("UTC")
        self.now = datetime.now(zone).replace(tzinfo=None)

    def model(self, name: str) -> TableModel:
        """The declaration a table is read and checked with (order lines: ORDER_LINES)."""
        if name == "orders" and self.settings.order_lines:
            return ORDER_LINES
        return TABLES[name]

    def run(self, plan: Mapping[str, _TablePlan]) -> Dataset:
        read: dict[str, _ReadTable] = {}
        problems: list[DataError] = []
        for name, table_plan in plan.items():
            self.progress(f"reading {name}")
            try:
                read[name] = self._read_table(self.model(name), table_plan)
            except DataError as exc:
                problems.append(exc)
        if problems:
            raise DataError.combine(problems)
        tables = unify_ids({n: r.table for n, r in read.items()}, self.capabilities)

        self.progress("checking rows")
        checked: dict[str, ir.Table] = {}
        policies: dict[str, str] = {}
        fills: dict[str, str] = {}  # table → why rows got no campaign's source, in words
        # Sessions first: costs without a source take it from them.
        for name in sorted(tables, key=list(TABLES).index):
            table = tables[name]
            if read[name].filled_ranks:
                table, fills[name] = self._fill_source(table, checked.get("sessions"))
            policy = read[name].policy or plan[name].policy
            if self.model(name) is ORDER_LINES and policy == "auto":
                # Exact copies of a line are one line read twice: keep one, count the rest.
                policy = "first"
            policies[name] = validate.effective_policy(
                table, self.model(name), policy=policy, sources=len(plan[name].items)
            )
            checked[name] = self._checked(table, read[name], name, policies[name])
        reasoned = {name: checked[name] for name in tables}  # the plan's order, as read
        self._drop_owned()

        # One scan per table: rows per (reason, date) give the window and the counts.
        summaries = {n: validate.reason_days(t, self.model(n)) for n, t in reasoned.items()}
        window, window_source = self._window(summaries)

        counts: list[TableCounts] = []
        findings: list[Finding] = []
        money: dict[str, Money] = {}  # per table with a money column
        byproducts: dict[str, ir.Table] = {}
        clean: dict[str, ir.Table] = {}
        sessions_dups: tuple[int, int] | None = None
        candidates: ir.Table | None = None
        for name, table in reasoned.items():
            model = self.model(name)
            final = validate.with_window(table, model, window)
            tally = summaries[name].counts(window if model.time_column else None)
            excluded = dict(tally.excluded)
            # Lines the reader set aside (comments, lines that are not rows) were read:
            # they count as excluded rows, so rows read = accepted + excluded.
            for reason, n in read[name].skipped.items():
                if n:
                    excluded[reason] = excluded.get(reason, 0) + n
            loaded = tally.accepted + sum(excluded.values())
            accepted_rows = final.filter(final[validate.REASON].isnull())
            counts.append(
                TableCounts(
                    table=name,
                    sources=read[name].labels,
                    loaded=loaded,
                    accepted=tally.accepted,
                    excluded=sum(excluded.values()),
                    excluded_by_reason=excluded,
                    first=tally.first,
                    last=tally.last,
                    columns=tuple(validate.data_columns(final)),
                    mapping=read[name].mapping,
                    preset=read[name].preset,
                    unique=_unique_key(final, model, policies[name]),
                )
            )
            if summaries[name].money:
                known = [v for v in tally.money.values() if v is not None]
                money[name] = Money(sum(known), tally.money.get(None) or 0.0)
            for reason, n in sorted(excluded.items(), key=lambda kv: (-kv[1], kv[0])):
                finding = self._exclusion_finding(
                    name, reason, n, loaded, final, window, policies[name]
                )
                # The money the excluded rows carried (none for lines that are not rows).
                finding = replace(finding, revenue=tally.money.get(reason))
                if reason in read[name].skipped_examples:  # lines not in the table
                    finding = replace(finding, examples=read[name].skipped_examples[reason])
                findings.append(finding)
            findings += [notice.finding(name, tally.accepted) for notice in read[name].date_orders]
            if (combined := read[name].combined) is not None:  # customers, policy "combine"
                findings += combine_findings(combined)
            if name in fills:
                ranks = list(read[name].filled_ranks)
                filled = accepted_rows.filter(accepted_rows[SOURCE_RANK].isin(ranks))
                fill = fill_counts(filled, tally.accepted)
                findings += _fill_findings(filled, fill, fills[name])
            if read[name].spanning:
                findings.append(_spanning_finding(name, read[name].spanning))
            clean[name] = accepted_rows.drop(validate.REASON, SOURCE_RANK)
            # Without a key, duplicates are identical rows, so they share their user: only
            # users with two sessions on one day (or two orders) need to be looked at.
            identical = policies[name] == "keep" and validate.key_columns(final, model) is None
            if name == "sessions" and window is not None:
                # The activity profiles say which users can hold identical sessions.
                byproducts[profile.KEY] = profile.build(clean[name], window, self.con).cache()
                marked = byproducts[profile.KEY]
                candidates = profile.repeat_users(marked)
                if identical:
                    # Checked below, on the sessions the buyers' check reads anyway.
                    sessions_dups = (len(findings), tally.accepted)
                    continue
            if name == "orders":
                order_stats = first_orders(clean[name], count=True).cache()
                byproducts[FIRST_ORDERS] = order_stats.select("user_id", "first_order_ts")
                if identical:
                    repeat = order_stats.filter(order_stats.orders > 1).select("user_id")
                    repeated = clean[name].semi_join(repeat, "user_id").select(*clean[name].columns)
                    findings.extend(self._kept_duplicates(name, repeated, tally.accepted))
                    continue
            if policies[name] == "keep":
                findings.extend(self._kept_duplicates(name, accepted_rows, tally.accepted))

        self.progress("cross-table checks")
        repeats, flags = self._cross_table(
            clean,
            summaries,
            window,
            counts,
            candidates,
            sessions_dups[1] if sessions_dups else None,
            byproducts,
        )
        if sessions_dups is not None:
            # At the place the sessions' loop left for it, after their exclusions.
            findings[sessions_dups[0] : sessions_dups[0]] = repeats
        findings += flags
        lines: ir.Table | None = None
        if self.model("orders") is ORDER_LINES and "orders" in clean:
            # Checked and counted as lines; analyses read orders, the lines stay at hand.
            findings = [_line_wording(f) for f in findings]
            # Stored once: every pass over the lines would otherwise re-run the duplicate
            # check's window over all of them (about 20 s per pass at 10M lines).
            lines = clean["orders"].cache()
            self.progress("grouping order lines into orders")
            clean["orders"] = orders_from_lines(lines).cache()
        settings = self._loaded_settings(tables)
        if self.lists is not None and self.lists.rule:
            listed = rule_table(self.lists, clean.get("customers"))
            clean["assignments"] = listed.table
            counts.append(listed.counts)
        elif self.lists is not None:
            self.progress("reading the participant lists")
            listed = lists_table(
                self.lists,
                {n: clean[n] for n in KNOWN_FROM if n in clean},
                numeric=self._numeric_ids(clean),
                # read() allocates its whole limit up front: at most 1 GiB of list text.
                max_bytes=min(self.settings.max_decompressed_bytes, 1 << 30),
            )
            clean["assignments"] = listed.table
            counts.append(listed.counts)
            findings += listed.findings
        quality = QualityReport(
            counts=tuple(counts),
            # Severity by the share of rows and money at stake ([settings.severity]).
            findings=grade(findings, counts, money, self.settings.severity),
            window=window,
            window_source=window_source,
        )
        dataset = Dataset(
            tables=clean, backend=self.con, settings=settings, quality=quality, line_table=lines
        )
        dataset.keep_byproducts(byproducts)
        return dataset

    def _numeric_ids(self, clean: Mapping[str, ir.Table]) -> bool:
        """Whether list tokens are read as integer ids: the other tables' ids are numbers.

        On a backend that keeps numeric ids as text (no unsigned integers), the ids are
        taken as numbers too: text ids there look the same, and a list of text ids is
        rare enough to be read then as the non-id tokens it would show.
        """
        types = [clean[n].user_id.type() for n in KNOWN_FROM if n in clean]
        return not types or not types[0].is_string() or not self.capabilities.unsigned_ids

    def _loaded_settings(self, tables: Mapping[str, ir.Table]) -> Settings:
        """The Dataset's settings: ``day_zero`` set exactly when time is day numbers.

        Raises:
            ConfigError: ``day_zero`` is set but no time column holds day numbers, or an
                experiment, campaign or window gives day numbers for date data.
        """
        settings = self.settings
        timed = any(
            (column := TABLES[n].time_column) is not None and column in t.columns
            for n, t in tables.items()
        )
        if self.day_numbers and settings.day_zero is None:
            return settings.model_copy(update={"day_zero": EPOCH_DAY})
        if self.day_numbers or not timed:
            return settings
        if settings.day_zero is not None:
            raise ConfigError(
                f"day_zero = {settings.day_zero} says the data's time is day numbers, but no "
                "time column holds integers (they are dates or timestamps); remove day_zero "
                "from [settings], or map the day-number column"
            )
        specs: list[ExperimentSpec | CampaignSpec] = [*settings.experiments, *settings.campaigns]
        numbered = [s.name for s in specs if any(isinstance(d, int) for d in s.days())]
        if numbered:
            raise ConfigError(
                f"{', '.join(repr(n) for n in numbered)} give(s) days as day numbers, but the "
                "data's time is dates, not day numbers; give its window/period as dates, e.g. "
                'window = ["2023-01-06", "2023-01-17"], or load day-number data (day_zero)'
            )
        return settings

    def _read_table(self, model: TableModel, plan: _TablePlan) -> _ReadTable:
        parts: list[CanonicalSource] = []
        labels: list[str] = []
        mappings: list[ColumnMapping] = []
        skipped: dict[str, int] = {}
        examples: dict[str, list[Mapping[str, Any]]] = {}
        notices: list[_DateOrder] = []
        spanning = 0
        problems: list[DataError] = []
        columnar = True
        for rank, item in enumerate(plan.items):
            # Every source is read even after a problem, so one error lists them all.
            try:
                raw, mapping, spec = self._read_source(model, item, plan.base_dir)
            except DataError as exc:
                problems.append(exc)
                continue
            self.owned.extend(raw.owned_tables)
            try:
                part = canonicalize(
                    raw,
                    model,
                    mapping,
                    spec,
                    rank=rank,
                    backend=self.capabilities,
                    null_ids=self.settings.null_ids,
                    day_zero=self.settings.day_zero,
                )
            except DataError as exc:
                problems.append(exc)
                continue
            finally:
                self._forget_text(raw)
            parts.append(part)
            self.day_numbers = self.day_numbers or part.day_numbers
            labels.append(raw.label)
            mappings.append(mapping)
            for reason, n in raw.skipped.items():
                skipped[reason] = skipped.get(reason, 0) + n
            for reason, lines in raw.skipped_examples.items():
                examples.setdefault(reason, []).extend({"source": raw.label, **e} for e in lines)
            notices += _date_orders(raw, mapping, model, spec)
            spanning += raw.spanning
            columnar = columnar and raw.columnar and raw.owned is None
        if problems:
            raise DataError.combine(problems)
        policy = resolve_combine(model, plan.policy, sources=len(parts))
        combined: CombineCounts | None = None
        if policy == COMBINE:
            # One row per id from all sources: the merged rows are stated, not excluded.
            table, combined = combine_customers(parts, model, labels=labels)
        else:
            table = union_sources(parts, model)
        # An id column is numeric only when every source's ids are.
        casts = {
            column: table[column].try_cast(id_type(self.capabilities))
            for column in ID_COLUMNS
            if column in table.columns
            and table[column].type().is_string()
            and all(p.numeric_ids.get(column, False) for p in parts if column in p.table.columns)
            and any(column in p.numeric_ids for p in parts)
        }
        if casts and not id_type(self.capabilities).is_string():
            table = table.mutate(**casts)
        return _ReadTable(
            table=table,
            labels=tuple(labels),
            mapping=dict(mappings[0].canonical),
            preset=mappings[0].preset,
            lazy_source=columnar,
            skipped=skipped,
            skipped_examples={r: tuple(e[: validate.EXAMPLES]) for r, e in examples.items()},
            date_orders=tuple(notices),
            spanning=spanning,
            filled_ranks=tuple(
                rank
                for rank, m in enumerate(mappings)
                if m.canonical.get("source") == FROM_CAMPAIGN
            ),
            policy=policy,
            combined=combined,
        )

    def _fill_source(self, costs: ir.Table, sessions: ir.Table | None) -> tuple[ir.Table, str]:
        """Costs read without a source, with the source of their campaign's sessions.

        The sessions are those that passed their own row checks (the data window is not
        known yet). Returns the costs and why rows got no campaign's source, in words.
        """
        if sessions is None:
            why = "no sessions table was loaded to take it from"
            valid = None
        elif not {"campaign", "source"} <= set(sessions.columns):
            why = "the sessions have no campaign or no source column to take it from"
            valid = None
        else:
            why = "no session has their campaign"
            valid = sessions.filter(sessions[validate.REASON].isnull())
        return fill_source(costs, valid), why

    def _forget_text(self, raw: RawSource) -> None:
        """Remove a CSV's inflated or converted copy: its rows are in the engine now."""
        if (
            raw.text is not None
            and raw.owned is not None
            and raw.text[0].is_relative_to(self.workdir)
        ):
            raw.text[0].unlink(missing_ok=True)

    def _read_source(
        self, model: TableModel, item: Any, base_dir: Path
    ) -> tuple[RawSource, ColumnMapping, SourceSpec | None]:
        spec: SourceSpec | None = None
        if isinstance(item, str | Path):
            spec = SourceSpec(path=str(item))
        elif isinstance(item, SourceSpec):
            spec = item
        elif isinstance(item, Mapping):
            try:
                spec = SourceSpec(**item)
            except ValidationError as exc:
                raise ConfigError(_describe(exc, f"{model.name}.sources")) from exc
        # Read as text: ids (exact digits), and values whose format the user states (times,
        # separators), which must be applied to the text as written, not the reader's guess.
        # A workbook's date cells are dates already: a stated format is for its text cells.
        # Text columns too: a campaign id '00123' read as a number would lose its zeros.
        stated = spec is not None and not is_excel(spec)
        as_text = {
            c.name
            for c in model.columns
            if c.kind in ("id", "text") or (stated and _stated(spec, c.kind))
        }
        explicit = dict(spec.columns) if spec else {}
        label = f"{model.name} frame" if spec is None else Path(spec.path).name
        date_time = dict(spec.date_time) if spec else {}
        _check_date_time(model, date_time)
        # The date and time columns become one column named after both; they are read as
        # text (the stated format, or ISO, reads them) and not kept, unless mapped too.
        hidden = {c for pair in date_time.values() for c in pair} - set(explicit.values())
        explicit.update({t: date_time_header(*pair) for t, pair in date_time.items()})
        # A costs source may lack its source when it has campaigns (filled at load).
        reading = COSTS_SOURCE_OPTIONAL if model.name == "costs" else model

        numbers = {c.name for c in model.columns if c.kind == "number"} - as_text
        known = {c.name for c in model.columns}
        # Canonical constants are columns the mapping takes by name.
        constants = dict(spec.constants) if spec else {}
        explicit.update({name: name for name in constants if name in known})
        lookup: tuple[RawSource, ir.Table] | None = None
        if spec is not None and spec.lookup is not None:
            lookup = self._lookup(model, spec, base_dir, as_text, numbers)
        # Columns the source will have beyond its own: the lookup's and the constants'.
        added = [
            *(c for c in (lookup[1].columns if lookup else ()) if c != LOOKUP_KEY),
            *constants,
            *(date_time_header(*pair) for pair in date_time.values()),
        ]

        def id_headers(headers: Sequence[str]) -> dict[str, str]:
            visible = [h for h in headers if h not in hidden]
            mapping = resolve(reading, [*visible, *added], explicit, source=label)
            types = {
                h: "VARCHAR" if c in as_text else "DOUBLE"
                for c, h in mapping.canonical.items()
                if (c in as_text or c in numbers) and h in headers
            }
            return {**types, **{h: "VARCHAR" for h in headers if h in hidden}}

        if spec is not None:
            raw = read_spec(
                self.con,
                spec,
                base_dir=base_dir,
                id_headers=id_headers,
                workdir=self.workdir,
                limits=self.limits,
            )
        else:
            raw = read_object(self.con, item, label=f"the {model.name} frame")
        preset = None
        if model.name == "events" and is_ga4_nested(raw.table):
            params = spec.params if spec is not None else None
            raw = replace(raw, table=flatten_ga4(raw.table, params, raw.label), columnar=False)
            preset = GA4_BIGQUERY
        elif spec is not None and spec.params is not None:
            raise ConfigError(
                f"[{model.name}] {raw.label}: params = [...] selects GA4 event_params, but "
                "the source is not in the GA4 BigQuery layout (event_timestamp, event_name, "
                "user_pseudo_id and a nested event_params); remove params"
            )
        if lookup is not None and spec is not None and spec.lookup is not None:
            lookup_raw, rows = lookup
            table = join_lookup(raw.table, rows, spec.lookup, label=raw.label)
            # Stored after typing: the join reads the lookup's raw copy, dropped then.
            raw = replace(
                raw, table=table, columnar=False, sniffed={**lookup_raw.sniffed, **raw.sniffed}
            )
        if constants:
            raw = replace(raw, table=add_constants(raw.table, constants, label=raw.label))
        if date_time and spec is not None:
            keep = list(spec.columns.values())
            table = combine_date_time(raw.table, date_time, keep=keep, label=raw.label)
            raw = replace(raw, table=table)
        if reading is not model:
            raw, explicit = _source_placeholder(raw, explicit)
        mapping = resolve(model, raw.table.columns, explicit, source=raw.label)
        if preset is not None:
            mapping = replace(mapping, preset=preset)
        return raw, mapping, spec

    def _lookup(
        self,
        model: TableModel,
        spec: SourceSpec,
        base_dir: Path,
        as_text: set[str],
        numbers: set[str],
    ) -> tuple[RawSource, ir.Table]:
        """A source's lookup as read and checked (once per load, however many sources use it).

        Returns the lookup as read and its rows to join (:func:`lookup_rows`).
        """
        assert spec.lookup is not None
        lookup = spec.lookup
        key = (lookup.model_dump_json(), str(base_dir))
        if key in self.lookups:
            return self.lookups[key]
        theirs = lookup.keys[1]
        # The key is read as text like any id; columns mapped from the lookup as the
        # canonical column they become needs (ids and stated formats as text).
        mapped = {header: name for name, header in spec.columns.items()}

        def types(headers: Sequence[str]) -> dict[str, str]:
            out = {theirs: "VARCHAR"} if theirs in headers else {}
            for header in headers:
                name = mapped.get(header)
                if name in as_text:
                    out[header] = "VARCHAR"
                elif name in numbers:
                    out[header] = "DOUBLE"
            return out

        raw = read_spec(
            self.con,
            lookup.source(),
            base_dir=base_dir,
            id_headers=types,
            workdir=self.workdir,
            limits=self.limits,
        )
        self.owned.extend(raw.owned_tables)
        rows = lookup_rows(raw.table, lookup, label=f"{raw.label} (lookup)")
        self.lookups[key] = (raw, rows)
        return raw, rows

    def _checked(self, table: ir.Table, read: _ReadTable, name: str, policy: str) -> ir.Table:
        """The typed table with its pre-window reasons, stored or a view (:meth:`_store`).

        A stored table is stored with its own row checks first and its duplicates
        resolved on the stored rows: the key check then reads stored columns, not the
        source again (on a lazy source DuckDB would clean text ids once more, about 1 s
        per 1M sessions), and with no repeated key the stored table is the result.
        """
        model = self.model(name)
        reasons = validate.first_reasons(table, model, now=self.now)
        if policy not in ("first", "last"):
            return self._store(reasons, read, name, windowed=False)
        # Order lines are stored after the window instead (in run), once.
        windowed = model is not ORDER_LINES
        if not self._keeps(read, windowed=windowed):
            return validate.resolve_duplicates(reasons, model, policy=policy, backend=self.con)
        stored = self._store(reasons, read, name, windowed=windowed)
        resolved = validate.resolve_duplicates(stored, model, policy=policy, backend=self.con)
        if resolved is stored:
            return stored
        kept = self._stored(resolved, rows_of=stored)  # the same rows, newly marked
        if self.disk.holds(stored):
            self.disk.drop(stored)
        elif self.capabilities.eager_cache:  # a lazy cache (Spark) still reads ``stored``
            stored.release()
        return kept

    def _keeps(self, read: _ReadTable, *, windowed: bool) -> bool:
        """Whether :meth:`_store` stores the table (see there)."""
        if self.materialize is not None:
            return self.materialize
        return not read.lazy_source or (windowed and self.capabilities.eager_cache)

    def _store(self, table: ir.Table, read: _ReadTable, name: str, *, windowed: bool) -> ir.Table:
        """The typed table with its reasons, stored in the engine or left a view.

        Stored when ``materialize`` says so; by default when the source was copied into
        the engine anyway (CSV, SQLite, frames), and on an engine whose cache is eager
        (DuckDB) when the duplicate policy needs a window (``windowed``: a key, or several
        sources): left a view, every scan of a lazy source would rank all its rows again
        (about 5 CPU-s per scan of 10M keyed sessions). The cost is the table's rows in
        the engine's memory (docs/benchmarks.md, "Loading").
        """
        if not self._keeps(read, windowed=windowed):
            return table
        try:
            return self._stored(table)
        except Exception as exc:  # an engine error while typing rows; name the sources
            raise DataError(
                f"the {name} rows cannot be typed",
                source=", ".join(read.labels),
                found=engine_message(exc),
                fix="check the mapped columns' values, or map other columns in growthlens.toml",
            ) from exc

    def _stored(self, table: ir.Table, rows_of: ir.Table | None = None) -> ir.Table:
        """``table`` stored: in the engine's memory, or on disk if too large (DiskTables).

        ``rows_of``: a stored table with the same rows, counted instead of ``table``. A
        disk that fails (full, read-only) leaves the table in memory, as before there was
        a disk store; an error in the rows themselves recurs there and is reported.
        """
        if self.disk.wanted(table, rows_of):
            with contextlib.suppress(Exception):
                return self.disk.store(table)
        return table.cache()

    def _drop_owned(self) -> None:
        """Drop the readers' raw copies once every table has its typed, cached copy."""
        # Only DuckDB's cache is eager; Spark's is lazy and still reads the raw table.
        if self.materialize is False or not self.capabilities.eager_cache:
            return
        for name in self.owned:
            with contextlib.suppress(Exception):  # a leftover temp table is harmless
                self.con.drop_table(name, force=True)
        self.owned.clear()

    def _window(
        self, summaries: Mapping[str, validate.ReasonDays]
    ) -> tuple[tuple[date, date] | None, str]:
        if self.settings.window is not None:
            return self.settings.window, "setting"
        ranges = {
            name: summary.time_range()
            for name, summary in summaries.items()
            if TABLES[name].sets_window
        }
        firsts = [f for f, _ in ranges.values() if f is not None]
        lasts = [last for _, last in ranges.values() if last is not None]
        if not firsts or not lasts:
            return None, "none"
        start, end = max(firsts), min(lasts)
        if start > end:
            spans = "; ".join(f"{n} {f} .. {last}" for n, (f, last) in ranges.items() if f)
            raise DataError(
                "the tables do not overlap in time, so there is no data window",
                expected="tables covering a common period",
                found=spans,
                fix='load matching exports, or set window = ["YYYY-MM-DD", "YYYY-MM-DD"] '
                "under [settings]",
            )
        return (start, end), "tables"

    def _exclusion_finding(
        self,
        name: str,
        reason: str,
        n: int,
        total: int,
        table: ir.Table,
        window: tuple[date, date] | None,
        policy: str,
    ) -> Finding:
        text, text_one = validate.exclusion_text(reason), validate.exclusion_text(reason, one=True)
        if reason == "out_of_window" and window:
            span = f"the data window {window[0]} – {window[1]}"
            text, text_one = f"fall outside {span}", f"falls outside {span}"
        if reason == "duplicate_key" and self.model(name) is ORDER_LINES:
            resolved = f"(policy '{policy}': one copy kept)"
            text = f"repeat another order line exactly, every column equal {resolved}"
            text_one = f"repeats another order line exactly, every column equal {resolved}"
        elif reason == "duplicate_key":
            kept = "first source" if policy == "first" else "last source"
            resolved = f"(policy '{policy}': one row per key kept, the {kept}'s)"
            text = f"duplicate another row's key {resolved}"
            text_one = f"duplicates another row's key {resolved}"
        severity: Severity = (
            "error"
            if reason.startswith(validate.ERROR_PREFIXES) or reason in validate.ERROR_REASONS
            else "info"
            if reason in validate.EMPTY_LINES  # lines without a row: nothing is lost
            else "warning"
        )
        return Finding(
            table=name,
            check=reason,
            message=f"{n:,} of {total:,} {name} rows ({n / total:.1%}) {text}.",
            rows=n,
            action="excluded",
            effect="left out of every metric",
            what=text,
            what_one=text_one,
            severity=severity,
            examples=validate.reason_examples(table, reason),
        )

    def _cross_table(
        self,
        clean: Mapping[str, ir.Table],
        summaries: Mapping[str, validate.ReasonDays],
        window: tuple[date, date] | None,
        counts: Sequence[TableCounts],
        candidates: ir.Table | None,
        repeats_of: int | None,
        byproducts: dict[str, ir.Table],
    ) -> tuple[list[Finding], list[Finding]]:
        """Checks that read the accepted rows: identical sessions and kept-row flags.

        ``repeats_of``: the accepted sessions when identical sessions are to be counted
        (policy ``keep``), else None. Returns the identical-sessions finding (if any) and
        the kept-row findings. Tables every analysis needs (buyers' first visits,
        sessions per day) go into ``byproducts``.
        """
        accepted = {
            n: summary.accepted(window if TABLES[n].time_column else None)
            for n, summary in summaries.items()
        }
        if "sessions" in accepted:
            byproducts[validate.SESSIONS_PER_DAY] = _per_day_table(
                accepted["sessions"].per_day, clean["sessions"]
            )
            if "end_ts" in clean["sessions"].columns:
                # Per-length counts: the session-length statistics read them, and they
                # answer the end-time checks the reason scan left out (data/lengths.py).
                counted = lengths.length_counts(clean["sessions"]).cache()
                byproducts[lengths.KEY] = counted
                summary = accepted["sessions"]
                flags = {**summary.flags, **validate.length_flags(counted)}
                accepted["sessions"] = replace(summary, flags=flags)
        totals = {c.table: c.accepted for c in counts}
        rare = (
            validate.rare_flags("sessions", accepted["sessions"], totals["sessions"])
            if "sessions" in accepted
            else ()
        )
        visits = None
        repeats: list[Finding] = []
        with self._watched_sessions(clean, candidates, byproducts, rare) as watched:
            if repeats_of is not None and watched.may_repeat is not None:
                repeats = self._kept_duplicates("sessions", watched.may_repeat, repeats_of)
            if watched.buyers is not None:
                # Buyers' first sessions next to their first orders: checked against their
                # orders here, and the cohort and first touch of every buyer in the
                # marketing analyses.
                built = first_sessions_of(watched.buyers)
                if watched.buyers_once is not None:
                    # One session a day at most: no two share an instant, so no ties.
                    built = built.union(
                        unique_first_sessions(
                            watched.buyers_once,
                            ordered_aggregates=self.capabilities.ordered_aggregates,
                        )
                    )
                rest = [c for c in clean["sessions"].columns if c != "user_id"]
                visits = built.select("user_id", "first_order_ts", *rest).cache()
                first = byproducts[FIRST_ORDERS]
                if _rows(visits) < _rows(first):
                    complete = with_sessionless_buyers(visits, first).cache()
                    visits.release()
                    visits = complete
                byproducts[BUYER_VISITS] = visits
            covered = (
                {"sessions": (watched.rows, frozenset(r.check for r in rare))}
                if watched.rows is not None and rare
                else {}
            )
            return repeats, validate.flag_findings(
                clean,
                totals,
                buyer_visits=visits,
                summaries=accepted,
                examples_from=covered,
            )

    @contextlib.contextmanager
    def _watched_sessions(
        self,
        clean: Mapping[str, ir.Table],
        candidates: ir.Table | None,
        byproducts: dict[str, ir.Table],
        rare: Sequence[FlagRule],
    ) -> Iterator[_Watched]:
        """Sessions the load's checks read, kept from one scan and stored until they are done.

        The duplicate check reads the sessions of users who may hold duplicates; buyers'
        first sessions, those of buyers; the examples of rarely failed checks (``rare``),
        the failing rows. Each would otherwise scan every session; together they are a
        small share. Buyers are read from the first order times in ``byproducts``.
        """
        has_buyers = "sessions" in clean and FIRST_ORDERS in byproducts
        firsts = byproducts[FIRST_ORDERS] if has_buyers else None
        if candidates is not None and firsts is not None:
            # One row per user of either kind, marked with which kinds it is; buyers carry
            # their first order time into their sessions' rows.
            b = firsts.select(_buyer_id="user_id", first_order_ts="first_order_ts")
            c = candidates.select(_dup_id="user_id")
            both = b.outer_join(c, b._buyer_id == c._dup_id)
            ids = both.select(
                user_id=both._buyer_id.coalesce(both._dup_id),
                _dup=both._dup_id.notnull(),
                _buyer=both._buyer_id.notnull(),
                first_order_ts=both.first_order_ts,
            )
        elif candidates is not None:
            ids = candidates.mutate(_dup=True, _buyer=False, first_order_ts=ibis.null("timestamp"))
        elif firsts is not None:
            ids = firsts.select("user_id", "first_order_ts", _dup=False, _buyer=True)
        else:
            yield _Watched(None, None, None, None)
            return
        sessions = clean["sessions"]
        if rare:
            # Users of neither kind have null marks; their rows stay only when they fail.
            joined = sessions.left_join(ids, sessions.user_id == ids.user_id)
            joined = joined.select(*sessions.columns, "_dup", "_buyer", "first_order_ts")
            keep = joined._dup.notnull() | ibis.or_(*[r.where(joined) for r in rare if r.where])
            watched = joined.filter(keep).cache()
        else:
            watched = sessions.inner_join(ids, "user_id").cache()
        dup, buyer = watched._dup.fill_null(False), watched._buyer.fill_null(False)
        known = candidates is not None
        with_order = [*sessions.columns, "first_order_ts"]
        try:
            yield _Watched(
                may_repeat=watched.filter(dup).select(*sessions.columns) if known else None,
                # Without the profiles every buyer may have ties at their first instant.
                buyers=(
                    watched.filter(buyer & dup if known else buyer).select(*with_order)
                    if has_buyers
                    else None
                ),
                buyers_once=(
                    watched.filter(buyer & ~dup).select(*with_order)
                    if has_buyers and known
                    else None
                ),
                rows=watched.select(*sessions.columns),
            )
        finally:
            watched.release()

    def _kept_duplicates(self, name: str, table: ir.Table, total: int) -> list[Finding]:
        model = self.model(name)
        n, examples = validate.duplicates(table, model)
        if not n:
            return []
        by_key = validate.key_columns(table, model) is not None
        kept = "(policy 'keep': all kept)"
        what, what_one = (
            ("share their key with another row", "shares its key with another row")
            if by_key
            else ("repeat another row exactly", "repeats another row exactly")
        )
        return [
            Finding(
                table=name,
                check="duplicate_key_kept" if by_key else "identical_rows",
                message=f"{n:,} of {total:,} {name} rows ({n / total:.1%}) {what} {kept}.",
                rows=n,
                action="kept",
                effect="kept in every metric (one export may hold identical real rows); "
                'set duplicates = "first" to keep one per key',
                what=f"{what} {kept}",
                what_one=f"{what_one} {kept}",
                severity="info",
                examples=examples,
            )
        ]


@dataclass(frozen=True)
class _Watched:
    """Subsets of the stored sessions (see ``_Loader._watched_sessions``)."""

    may_repeat: ir.Table | None  # sessions of users with two sessions on some day
    # Buyers' sessions, each with the buyer's first_order_ts:
    buyers: ir.Table | None  # of the other buyers (all buyers without activity profiles)
    buyers_once: ir.Table | None  # of buyers with at most one session a day
    rows: ir.Table | None


@dataclass(frozen=True)
class _ReadTable:
    table: ir.Table
    labels: tuple[str, ...]
    mapping: Mapping[str, str]
    preset: str | None
    lazy_source: bool
    skipped: Mapping[str, int]
    skipped_examples: Mapping[str, tuple[Mapping[str, Any], ...]]
    date_orders: tuple[_DateOrder, ...] = ()
    spanning: int = 0
    # Costs: the sources (by rank) read without a source column, filled from the campaigns.
    filled_ranks: tuple[int, ...] = ()
    policy: str | None = None  # the duplicate policy when the read decided it ("combine")
    combined: CombineCounts | None = None  # what combining the sources by id found


@dataclass(frozen=True)
class _DateOrder:
    """A column the CSV reader read day/month (or month/day) where both readings fit."""

    source: str
    header: str
    column: str
    chosen: str
    other: str

    def finding(self, table: str, rows: int) -> Finding:
        chosen, other = _order_words(self.chosen), _order_words(self.other)
        what = (
            f"have dates in {self.header!r} ({self.source}) read as {chosen} "
            f"({self.chosen}), the reader's guess: every day number is 12 or less, so "
            f"{other} ({self.other}) would fit too"
        )
        setting = "date_format" if self.column == "date" else "timestamp_format"
        return Finding(
            table=table,
            check="ambiguous_date_order",
            message=f"All {rows:,} {table} rows {what}.",
            rows=rows,
            action="kept",
            effect=f'kept as read; if the export means {other}, set {setting} = "{self.other}" '
            "in the source",
            what=what,
            what_one=what.replace("have dates", "has a date", 1),
            severity="warning",
        )


def _check_date_time(model: TableModel, date_time: Mapping[str, tuple[str, str]]) -> None:
    """Each ``date_time`` key must be a timestamp column of the table."""
    stamps = [c.name for c in model.columns if c.kind == "timestamp"]
    for target in date_time:
        column = model.column(target)
        if column is None or column.kind != "timestamp":
            expected = (
                f"one of its timestamp columns: {', '.join(stamps)}"
                if stamps
                else "nothing: the table has no timestamp column"
            )
            raise ConfigError(
                f"[{model.name}] date_time: {target!r} is not a timestamp column of "
                f"{model.name}; expected {expected}, e.g. date_time = "
                f'{{ {stamps[0] if stamps else "start_ts"} = ["event_date", "event_time"] }}'
            )


def _source_placeholder(
    raw: RawSource, explicit: dict[str, str]
) -> tuple[RawSource, dict[str, str]]:
    """A costs source with campaigns and no source column gets a placeholder source.

    The load replaces it once every table is read (:func:`fill_source`). A source that
    has its source column, or has no campaign either, is left as it is: the mapping then
    takes the column, or raises the usual missing-column error.
    """
    found = resolve(COSTS_SOURCE_OPTIONAL, raw.table.columns, explicit, source=raw.label)
    if "source" in found.canonical or "campaign" not in found.canonical:
        return raw, explicit
    table = raw.table.mutate(**{FROM_CAMPAIGN: ibis.literal(TO_FILL)})
    return replace(raw, table=table), {**explicit, "source": FROM_CAMPAIGN}


def _fill_findings(costs: ir.Table, fill: SourceFill, why: str) -> list[Finding]:
    """The counts of a source fill, as findings on the accepted cost rows.

    ``why``: why rows got no source of a campaign, in words.
    """
    findings: list[Finding] = []
    total = fill.rows

    def share(n: int) -> str:
        return f"{n:,} of {total:,} cost rows ({n / total:.1%})"

    if fill.assigned:
        what = (
            "had no source and took the one most of their campaign's sessions come from "
            f"({fill.campaigns:,} campaign{'s' * (fill.campaigns != 1)}; ties: the smallest "
            "source)"
        )
        findings.append(
            Finding(
                table="costs",
                check="cost_source_from_campaign",
                message=f"{share(fill.assigned)} {what}.",
                rows=fill.assigned,
                action="kept",
                effect="the spend counts under that source; a campaign whose sessions come "
                "from several sources is counted wholly under the most frequent one",
                what=what,
                what_one=what,
                severity="info",
            )
        )
    if fill.unassigned:
        parts = []
        if fill.orphans:
            parts.append(f"{fill.orphans:,} campaign{'s' * (fill.orphans != 1)}")
        if fill.no_campaign:
            parts.append(
                f"{fill.no_campaign:,} row{'s' * (fill.no_campaign != 1)} without a campaign"
            )
        what = f"had no source and got {NO_SESSIONS!r}: {why} ({', '.join(parts)})"
        findings.append(
            Finding(
                table="costs",
                check="cost_campaign_without_sessions",
                message=f"{share(fill.unassigned)} {what}.",
                rows=fill.unassigned,
                action="kept",
                effect=f"the spend counts under {NO_SESSIONS!r}; no session, user or "
                "conversion matches it",
                what=what,
                what_one=what.replace("their campaign", "its campaign"),
                severity="warning",
                examples=validate.examples(costs, costs.source == NO_SESSIONS),
            )
        )
    return findings


def _spanning_finding(table: str, breaks: int) -> Finding:
    """Line breaks inside quoted values: the file has more lines than rows, and says why."""
    what = (
        "line breaks are inside quoted values (a value spanning lines, or a quote opened on "
        "one line and closed on a later one), so the file has that many more lines than rows"
    )
    return Finding(
        table=table,
        check="line_breaks_in_values",
        message=f"{breaks:,} {what}.",
        rows=breaks,
        action="kept",
        effect="the rows are read as the CSV's quotes say; if a quote is misplaced, fix it "
        "and load again",
        what=what,
        what_one=what.replace("line breaks are", "line break is").replace(
            "that many more lines", "one more line"
        ),
        severity="warning",
    )


def _order_words(fmt: str) -> str:
    return "day/month" if fmt.index("%d") < fmt.index("%m") else "month/day"


def _date_orders(
    raw: RawSource, mapping: ColumnMapping, model: TableModel, spec: SourceSpec | None
) -> list[_DateOrder]:
    """Time columns read with the reader's own day/month guess where the data cannot tell."""
    found = []
    for column in model.columns:
        header = mapping.canonical.get(column.name)
        fmt = raw.sniffed.get(header) if header else None
        if header is None or fmt is None or (spec and spec.time_format(column.kind)):
            continue
        day = raw.table[header].day().max().to_pyarrow().as_py()
        if day is not None and day <= 12:
            other = fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")
            found.append(_DateOrder(raw.label, header, column.name, fmt, other))
    return found


def _stated(spec: SourceSpec | None, kind: str) -> bool:
    """Whether the source states how values of ``kind`` are written."""
    if spec is None:
        return False
    if kind == "number":
        return spec.decimal == "," or spec.thousands is not None
    return kind in ("timestamp", "date") and spec.time_format(kind) is not None


def _line_wording(finding: Finding) -> Finding:
    """An orders finding worded in order lines, which is what it counts with order_lines."""
    if finding.table != "orders":
        return finding
    return replace(finding, message=finding.message.replace(" orders rows ", " order lines "))


def _unique_key(table: ir.Table, model: TableModel, policy: str) -> tuple[str, ...]:
    """The one-column key the ``first``/``last`` policy left without repeats, if any.

    Every valid row but the first of each key was excluded as a duplicate, so the accepted
    rows' non-null keys are distinct: the overview counts them instead of a distinct count.
    """
    key = validate.key_columns(table, model)
    if policy not in ("first", "last") or key is None or len(key) != 1 or model is ORDER_LINES:
        return ()
    return key


def _rows(table: ir.Table) -> int:
    return int(table.count().to_pyarrow().as_py())


def _per_day_table(per_day: pd.DataFrame, sessions: ir.Table) -> ir.Table:
    """The reason scan's accepted sessions per day [and source], as a small engine table."""
    schema: dict[str, Any] = {"day": "date", "rows": "int64"}
    if "source" in per_day.columns:
        schema["source"] = sessions.source.type()
    table = ibis.memtable(per_day[list(schema)], schema=schema)
    return table.rename(sessions="rows")
