"""The tables a search reads are defined once, in ``db.tables``, and the ORM models map exactly those tables.

The models' ``Mapped[...]`` annotations are for typing only (SQLAlchemy takes the columns from ``__table__`` and
ignores an annotation that names no column): each model's annotated columns must be its table's, no more, no
fewer, with the same nullability.
"""
from __future__ import annotations

import typing

import pytest
from sqlalchemy.orm import Mapped

from cqnews.db import models, tables

MAPPED = [(models.Site, tables.SITES), (models.Article, tables.ARTICLES),
          (models.ArticleVersion, tables.ARTICLE_VERSIONS), (models.SearchDoc, tables.SEARCH_DOCS)]


@pytest.mark.parametrize(("model", "table"), MAPPED, ids=[m.__name__ for m, _ in MAPPED])
def test_a_model_maps_its_core_table_and_annotates_every_column_of_it(model: type, table: object) -> None:
    assert model.__table__ is table and models.Base.metadata.tables[table.name] is table  # type: ignore[attr-defined]
    hints = typing.get_type_hints(model, vars(models))
    annotated = {name: hint for name, hint in hints.items()
                 if typing.get_origin(hint) is Mapped and name in vars(model).get("__annotations__", {})
                 and name not in model.__mapper__.relationships}  # type: ignore[attr-defined]
    assert set(annotated) == set(table.columns.keys())  # type: ignore[attr-defined]
    for name, hint in annotated.items():
        optional = type(None) in typing.get_args(typing.get_args(hint)[0])
        assert optional == table.columns[name].nullable, name  # type: ignore[attr-defined]
