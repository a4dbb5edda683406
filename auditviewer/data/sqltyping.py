"""Names for SQLAlchemy's generic types as the data layer's signatures use them.

A SELECT here has any number of columns of any types, and so has a result:
its rows unpack into as many names as the statement selects.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import sqlalchemy as sa

#: A SELECT of any columns.
AnySelect: TypeAlias = "sa.Select[*tuple[Any, ...]]"
#: The result of running one.
AnyResult: TypeAlias = "sa.CursorResult[*tuple[Any, ...]]"
