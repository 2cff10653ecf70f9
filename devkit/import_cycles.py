"""`make lint`'s cycle check: no import cycle among the modules of services/, cli/, devkit/.

An import cycle is a strongly connected group of modules (each reaches the others through
imports, at any place in the module: top level or inside a function). import-linter's
graph (grimp) finds the imports; this prints each cycle's modules and exits 1 if any.

    python -m devkit.import_cycles [package …]
"""

import sys
from collections.abc import Iterable

import grimp

PACKAGES = ("services", "cli", "devkit")


def cycles(packages: Iterable[str] = PACKAGES) -> list[list[str]]:
    """The import cycles (each a sorted list of modules), largest first."""
    graph = grimp.build_graph(*packages, cache_dir=None)
    inside = {m for p in packages for m in graph.find_descendants(p) | {p}}
    edges = {m: graph.find_modules_directly_imported_by(m) & inside for m in inside}
    return sorted(
        (sorted(c) for c in _components(edges) if len(c) > 1 or c[0] in edges[c[0]]),
        key=lambda c: (-len(c), c),
    )


def _components(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, without recursion."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(component)
    return found


def main(argv: list[str]) -> int:
    packages = argv or list(PACKAGES)
    found = cycles(packages)
    for cycle in found:
        print(f"import cycle ({len(cycle)} modules): " + " ↔ ".join(cycle))
    print(f"{len(found)} import cycles in {', '.join(packages)}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
