"""Queries compiled to SQL once per process, for the few that the busiest
signed-in pages run on every request.

Building a queryset and compiling it costs Django more than PostgreSQL
takes to answer a small query: about half a millisecond for a filtered
lookup, two for a row of ``Exists`` flags. ``CompiledQuery`` builds its
queryset once, from stand-in values, keeps the SQL, and on each run sends
that SQL with the real values where the stand-ins were (passed as the ORM
passes them: SQLite takes dates and times as text). It returns plain
rows, as dicts by the ``values()`` names, as the database gave them: no
converters run, so on SQLite a flag is 0 or 1 and a time is text.
``instance`` builds a model instance from a row that holds its
``columns``, with the backend's and its fields' converters, as the ORM
would.

The SQL must not depend on the values, only its parameters may: what
``build`` is given must reach the SQL as parameters, unchanged (no ``None``,
which compiles to ``IS NULL``; no lists, whose length is in the SQL; no
value worked out from one, such as ``today.year`` or ``"%" + text``). So
the query is compiled twice, from two different sets of stand-ins, and
refused unless the two give the same SQL with each stand-in in the same
places and every other parameter the same; each stand-in but a date (which
a query may not need) must appear, a date constant (a "today" worked out
inside ``build``) is refused, as it would be kept for ever, and each run's
value must be of its stand-in's type, so never ``None``.
"""

import datetime
from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet

# Values no real row has, for ``build`` to be compiled with.
STAND_IN_IDS = (-734_190_257, -734_190_263, -734_190_269)
STAND_IN_ID = STAND_IN_IDS[0]
STAND_IN_DATE = datetime.date(1, 2, 3)
STAND_IN_TIME = datetime.datetime(1, 2, 3, 4, 5, 6, tzinfo=datetime.UTC)
STAND_IN_TEXT = "\x1fcompiled-query stand-in\x1f"


def _other(stand_in):
    """A second stand-in of the same type, unlike the first in every part
    (the year, month and day of a date too)."""
    if isinstance(stand_in, datetime.date):  # and a datetime
        return stand_in.replace(year=stand_in.year + 7, month=stand_in.month % 12 + 1, day=9)
    if isinstance(stand_in, bool):
        raise ImproperlyConfigured("A compiled query cannot take a bool: it is in the SQL.")
    if isinstance(stand_in, int):
        return stand_in - 1_000_003
    if isinstance(stand_in, str):
        return stand_in + "\x1fother"
    raise ImproperlyConfigured(f"A compiled query cannot take a {type(stand_in).__name__}.")


def _as_it_is(value):
    return value


def _adapter(connection, stand_in):
    """How ``connection``'s backend passes a value of ``stand_in``'s type
    to the database, as the ORM does when it compiles a query: PostgreSQL
    takes dates and times as they are, SQLite as text."""
    if isinstance(stand_in, datetime.datetime):
        return connection.ops.adapt_datetimefield_value
    if isinstance(stand_in, datetime.date):
        return connection.ops.adapt_datefield_value
    return _as_it_is


class CompiledQuery:
    """``build(**stand_ins)`` returns a ``values()`` queryset; ``rows(**values)``
    runs its SQL with ``values`` in the stand-ins' places."""

    def __init__(self, build: Callable[..., QuerySet], **stand_ins) -> None:
        if len({(type(value), value) for value in stand_ins.values()}) != len(stand_ins):
            raise ImproperlyConfigured("Each stand-in of a compiled query must be different.")
        self.build = build
        self.stand_ins = stand_ins
        # By database alias: the SQL, each parameter's stand-in name (or
        # None for a constant), the constants, the rows' names, and how
        # the backend passes each stand-in's values.
        self._compiled: dict[str, tuple[str, list[str | None], list, list[str], dict]] = {}

    def _compile(self, using: str) -> tuple[str, list[str | None], list, list[str], dict]:
        connection = connections[using]
        adapters = {name: _adapter(connection, value) for name, value in self.stand_ins.items()}
        # Each stand-in as the backend passes it (SQLite: dates as text).
        passed = {name: adapters[name](value) for name, value in self.stand_ins.items()}
        query = self.build(**self.stand_ins).query
        sql, params = query.get_compiler(using=using).as_sql()
        others = {name: _other(stand_in) for name, stand_in in self.stand_ins.items()}
        other_sql, other_params = self.build(**others).query.get_compiler(using=using).as_sql()
        if other_sql != sql or len(other_params) != len(params):
            raise ImproperlyConfigured("The compiled query's SQL depends on the values.")
        names: list[str | None] = []
        for param, other in zip(params, other_params, strict=True):
            name = next(
                (
                    name
                    for name, stand_in in passed.items()
                    if type(param) is type(stand_in) and param == stand_in
                ),
                None,
            )
            if name is not None:
                other_passed = adapters[name](others[name])
                if not (type(other) is type(other_passed) and other == other_passed):
                    name = None  # The same value twice by chance: a constant, refused below.
            if name is None and other != param:
                raise ImproperlyConfigured(
                    f"The compiled query has a parameter worked out from a value ({param!r}): "
                    "build() must pass each value to the queryset as it is."
                )
            if name is None and isinstance(param, datetime.date):
                raise ImproperlyConfigured(
                    f"A compiled query would keep the date {param!r} for ever: "
                    "pass it to build() as a stand-in."
                )
            names.append(name)
        unused = {
            name
            for name, stand_in in self.stand_ins.items()
            if name not in names and type(stand_in) is not datetime.date
        }
        if unused:
            raise ImproperlyConfigured(
                f"The compiled query's SQL has no parameter for {', '.join(sorted(unused))}: "
                "build() must pass each value to the queryset as it is."
            )
        # Named as values() names them, in the order it selects them.
        columns = (
            list(query.selected)
            if query.selected
            else [*query.extra_select, *query.values_select, *query.annotation_select]
        )
        compiled = (sql, names, list(params), columns, adapters)
        self._compiled[using] = compiled
        return compiled

    def _run(self, using: str, values: dict) -> tuple[str, list, list[str]]:
        if values.keys() != self.stand_ins.keys():
            raise TypeError(f"A compiled query takes {', '.join(sorted(self.stand_ins))}.")
        for name, value in values.items():
            if type(value) is not type(self.stand_ins[name]):
                raise TypeError(
                    f"{name} must be a {type(self.stand_ins[name]).__name__}, not {value!r}."
                )
        compiled = self._compiled.get(using) or self._compile(using)
        sql, names, constants, columns, adapters = compiled
        params = [
            constant if name is None else adapters[name](values[name])
            for name, constant in zip(names, constants, strict=True)
        ]
        return sql, params, columns

    def sql_with_params(self, using: str = DEFAULT_DB_ALIAS, **values) -> tuple[str, list]:
        sql, params, _columns = self._run(using, values)
        return sql, params

    def rows(self, using: str = DEFAULT_DB_ALIAS, **values) -> list[dict]:
        sql, params, columns = self._run(using, values)
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def columns(model: type[Model], prefix: str = "") -> list[str]:
    """The ``values()`` names of ``model``'s columns, each after ``prefix``
    (a relation's path and two underscores: ``"profile__"``)."""
    return [prefix + field.attname for field in model._meta.concrete_fields]


def _converters(model: type[Model], using: str) -> list[tuple[int, object, list]]:
    """The concrete fields that have converters, as the ORM runs them on a
    row read through them: each field's index, its column, and the
    backend's converters (SQLite's make text times and 0/1 flags Python's;
    PostgreSQL's backend has none) then the field's own."""
    key = (model, using)
    found = _CONVERTERS.get(key)
    if found is None:
        connection = connections[using]
        found = []
        for index, field in enumerate(model._meta.concrete_fields):
            column = field.get_col(model._meta.db_table)
            converters = connection.ops.get_db_converters(column) + column.get_db_converters(
                connection
            )
            if converters:
                found.append((index, column, converters))
        _CONVERTERS[key] = found
    return found


_CONVERTERS: dict[tuple[type[Model], str], list[tuple[int, object, list]]] = {}


def instance(model: type[Model], row: dict, prefix: str = "", using: str = DEFAULT_DB_ALIAS):
    """The ``model`` instance in ``row``, which holds its ``columns(model,
    prefix)``, built as the ORM builds it (``Model.from_db``, the backend's
    and each field's converters); None where an outer join found no
    row."""
    if row[prefix + model._meta.pk.attname] is None:
        return None
    names = [field.attname for field in model._meta.concrete_fields]
    values = [row[prefix + name] for name in names]
    connection = connections[using]
    for index, column, converters in _converters(model, using):
        for convert in converters:
            values[index] = convert(values[index], column, connection)
    return model.from_db(using, names, values)
