"""A rebuild's partial cell sums kept on local disk, for a log whose sums do not fit in memory.

Each part goes to a file of its own, its cells in key order; `merged` reads every file at
once, one cell of each in memory at a time, and yields each cell's total once, in key order
(a k-way merge). So the cells of a rebuild are inserted once each, however many parts their
sums were made in: adding each part to the cells' documents in the engine instead (`$inc`
upserts) wrote every cell once per part, and at 1 M issues took as long as the fold.
"""

import heapq
import itertools
import marshal
import operator
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from services.reporting.domain import cells as cell_rules

BUFFER = 1 << 20
"""Bytes buffered per file, written or read."""
_cell = operator.itemgetter(0)
"""An entry's cell key (entries are `(cell, counters)`)."""


class SpilledCells:
    """Parts of cell sums on disk, in a temporary directory removed on leaving the block."""

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="huiyin-cells-", dir=directory)
        self._parts: list[Path] = []

    def __enter__(self) -> "SpilledCells":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._directory.cleanup()

    def add(self, totals: cell_rules.Cells) -> None:
        """One part of the sums, written in key order."""
        path = Path(self._directory.name) / f"part-{len(self._parts):05}"
        with path.open("wb", buffering=BUFFER) as out:
            for cell in sorted(totals):
                marshal.dump((cell, totals[cell]), out)
        self._parts.append(path)

    def merged(self) -> Iterator[tuple[str, cell_rules.Counters]]:
        """Every cell once, in key order, with the sum of its counters over the parts."""
        files = [path.open("rb", buffering=BUFFER) for path in self._parts]
        try:
            entries = heapq.merge(*(_entries(f) for f in files), key=_cell)
            for cell, same in itertools.groupby(entries, key=_cell):
                total: cell_rules.Counters = {}
                for _, counters in same:
                    cell_rules.add(total, counters)
                yield cell, total
        finally:
            for f in files:
                f.close()


def _entries(source: BinaryIO) -> Iterator[tuple[str, cell_rules.Counters]]:
    while True:
        try:
            cell, counters = marshal.load(source)
        except EOFError:
            return
        yield cell, counters
