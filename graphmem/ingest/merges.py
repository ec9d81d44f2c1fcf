"""Settling short-name merges: each name maps straight to one canonical name, never a chain.

Kept apart from :mod:`graphmem.ingest.resolve` (which finds the merges) because it is pure
graph bookkeeping over names: a functional graph on folded forms whose chains are followed to
their end and whose cycles are cut at their smallest form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping


def settle_merges(
    merges: Mapping[str, str],
    form: Callable[[str], str],
    preferred: Callable[[str], str | None] | None = None,
) -> dict[str, str]:
    """``merges`` (name -> name it stands for) made final: each name maps straight to its end.

    Names of one ``form`` (folded alike) are one name: every spelling ends at the same canonical
    one, the ``preferred`` spelling of that form when it is among them (the namespace's, so ids
    stay stable), else the smallest that some name merged into. A chain ends at its last name; a
    cycle (between names of different forms) ends at its smallest name. No name maps to itself.

    >>> from graphmem.names import fold
    >>> settle_merges({"Roman Polanski": "Roman Polański", "Roman Polański": "Roman Polanski"}, fold)
    {'Roman Polański': 'Roman Polanski'}
    >>> settle_merges({"Al": "Al Bo", "Al Bo": "Al Bo Cy"}, str.lower)
    {'Al': 'Al Bo Cy', 'Al Bo': 'Al Bo Cy'}
    """
    groups: dict[str, set[str]] = {}
    for name in (*merges, *merges.values()):
        groups.setdefault(form(name), set()).add(name)
    targets = set(merges.values())
    rep: dict[str, str] = {}
    for key, members in groups.items():
        pick = preferred(next(iter(members))) if preferred is not None else None
        rep[key] = pick if pick in members else min(members & targets or members)
    # One step per folded form: to the smallest other form it merged into.
    step: dict[str, str] = {}
    for name, target in merges.items():
        a, b = form(name), form(target)
        if a != b and (a not in step or rep[b] < rep[step[a]]):
            step[a] = b
    end: dict[str, str] = {}
    for start in groups:
        path: list[str] = []
        cur = start
        while cur in step and cur not in end and cur not in path:
            path.append(cur)
            cur = step[cur]
        if cur in end:
            last = end[cur]
        elif cur in path:  # a cycle: it ends at its smallest form
            cycle = path[path.index(cur) :]
            last = min(cycle, key=rep.__getitem__)
        else:
            last = cur
        for key in path:
            end[key] = last
        end.setdefault(cur, last)
    out: dict[str, str] = {}
    for key, members in groups.items():
        final = rep[end[key]]
        out.update({name: final for name in members if name != final})
    return out
