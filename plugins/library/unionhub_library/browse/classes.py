"""The class tree (中图法) as plain values, read with one small query per request and
reused while the table is unchanged.

The table holds the classes in use — a few dozen to a few hundred rows, never books — so a
page reads them all in one statement (id, code, name, parent, sort, kept count) and
compares the rows with the ones the process saw last: when they are equal (the usual case)
the tree built from them — children, subtree ids, ancestors, lookup by code — is reused;
any change (a class added, renamed, moved, a count moved) builds a new one. A class page
then costs no further query for its class, breadcrumb, sub-classes and subtree, and a
change is visible at once: there is nothing to invalidate, and no write-side hook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count
from threading import Lock

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import LibraryCategory

#: Depth beyond which a (hand-edited, cyclic) parent chain is not followed.
MAX_DEPTH = 50

Row = tuple[int, str, str, int | None, int, int]


@dataclass(frozen=True)
class ClassNode:
    """A class as the pages show it (``code``, ``name``; ``book_count`` is its own active
    books, ``total`` those of its whole subtree)."""

    id: int
    code: str
    name: str
    parent_id: int | None
    sort: int
    book_count: int
    total: int = 0


_generations = count(1)


@dataclass
class ClassTree:
    rows: tuple[Row, ...]
    #: Distinct for every tree built in this process: a page kept for one tree is not
    #: served with another (browse/pagecache.py).
    generation: int = field(default_factory=lambda: next(_generations))
    by_id: dict[int, ClassNode] = field(default_factory=dict)
    by_code: dict[str, ClassNode] = field(default_factory=dict)
    kids: dict[int | None, list[int]] = field(default_factory=dict)

    def get(self, code: str) -> ClassNode | None:
        return self.by_code.get(code) if code and len(code) <= 20 else None

    def children(self, category_id: int | None) -> list[ClassNode]:
        """The classes directly below ``category_id`` (None: the top level), in class-mark
        order."""
        return [self.by_id[i] for i in self.kids.get(category_id, ())]

    def subtree_ids(self, category_id: int) -> list[int]:
        """The class and every class below it, sorted (empty for an unknown id)."""
        if category_id not in self.by_id:
            return []
        out: set[int] = set()
        todo = [(category_id, 0)]
        while todo:
            cid, depth = todo.pop()
            if cid in out or depth > MAX_DEPTH:
                continue
            out.add(cid)
            todo.extend((k, depth + 1) for k in self.kids.get(cid, ()))
        return sorted(out)

    def ancestors(self, category_id: int) -> list[ClassNode]:
        """The classes above ``category_id``, top first (for the breadcrumb)."""
        out: list[ClassNode] = []
        node = self.by_id.get(category_id)
        parent_id = node.parent_id if node is not None else None
        while parent_id is not None and len(out) < MAX_DEPTH:
            parent = self.by_id.get(parent_id)
            if parent is None:
                break
            out.append(parent)
            parent_id = parent.parent_id
        return out[::-1]


def _build(rows: tuple[Row, ...]) -> ClassTree:
    tree = ClassTree(rows)
    ordered = sorted(rows, key=lambda r: (r[4], r[1]))
    for cid, _code, _name, parent_id, _sort, _count in ordered:
        tree.kids.setdefault(parent_id if parent_id is not None else None, []).append(cid)
    own = {r[0]: r[5] for r in rows}
    totals: dict[int, int] = {}

    def total(cid: int, depth: int) -> int:
        if cid not in totals:
            below = 0 if depth >= MAX_DEPTH else sum(total(k, depth + 1)
                                                     for k in tree.kids.get(cid, ()))
            totals[cid] = own[cid] + below
        return totals[cid]

    for cid, code, name, parent_id, sort, own_count in ordered:
        node = ClassNode(cid, code, name, parent_id, sort, own_count, total(cid, 0))
        tree.by_id[cid] = node
        tree.by_code[code] = node
    return tree


_lock = Lock()
_last: ClassTree | None = None
#: Built once: the statement is the same for every request.
_ROWS = select(LibraryCategory.id, LibraryCategory.code, LibraryCategory.name,
               LibraryCategory.parent_id, LibraryCategory.sort,
               LibraryCategory.book_count).order_by(LibraryCategory.id)


def class_tree(session: Session) -> ClassTree:
    """The tree of the session's database as it is now (one query; the structure is
    rebuilt only when a row differs from the last one seen)."""
    global _last
    rows = tuple((r[0], r[1], r[2], r[3], r[4] or 0, r[5] or 0)
                 for r in session.execute(_ROWS))
    last = _last
    if last is not None and last.rows == rows:
        return last
    tree = _build(rows)
    with _lock:
        _last = tree
    return tree
