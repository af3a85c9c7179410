"""An immutable, hashable, picklable mapping for the fields of frozen edits."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["Params", "freeze", "thaw"]


def freeze(value: Any) -> Any:
    """Mappings become :class:`Params`, lists and tuples become tuples, recursively."""
    if isinstance(value, Params):
        return value
    if isinstance(value, Mapping):
        return Params(value)
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """The inverse of :func:`freeze`: dicts and lists, for TOML and JSON."""
    if isinstance(value, Mapping):
        return {str(k): thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


class Params(Mapping[str, Any]):
    """A read-only mapping with string keys, kept in insertion order.

    Parameters
    ----------
    data
        A mapping (or pairs); nested mappings and lists are frozen too.
    **kwargs
        More items.
    """

    __slots__ = ("_dict", "_items")
    _dict: dict[str, Any]
    _items: tuple[tuple[str, Any], ...]

    def __init__(self, data: Any = (), /, **kwargs: Any) -> None:
        raw = dict(data, **kwargs)
        bad = [k for k in raw if not isinstance(k, str)]
        if bad:
            msg = f"keys must be strings, got {bad[0]!r}"
            raise TypeError(msg)
        items = tuple((k, freeze(v)) for k, v in raw.items())
        object.__setattr__(self, "_items", items)
        object.__setattr__(self, "_dict", dict(items))

    def __setattr__(self, name: str, value: Any) -> None:
        msg = "Params is read-only"
        raise AttributeError(msg)

    def __getitem__(self, key: str) -> Any:
        return self._dict[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self.items()) == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return f"Params({dict(self._items)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Params, (thaw(self),))
