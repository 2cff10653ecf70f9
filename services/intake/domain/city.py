"""The city as intake checks names against it: the offices and the region codes of the city's
configuration (`deploy/config/city`, the files routing judges with; `adapters/city.py` reads
them). A principal may be bound only to an office or region the city has, and an assignment
naming an office the city does not list is not adopted. Pure."""

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    offices: frozenset[str]
    regions: frozenset[str]

    def unknown_offices(self, office_ids: Iterable[str]) -> list[str]:
        return sorted({office for office in office_ids if office not in self.offices})
