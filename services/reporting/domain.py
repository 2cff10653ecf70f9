"""Reporting's pure rules, by module: facts.py (what each event records, the derived view),
rates.py (the rates of domain.md), rankings.py, lists.py (三单制 and 积案), durations.py
(histograms), scope.py (a scope and a period). Re-exported here for older callers."""

from services.reporting.facts import FactRules, derive, fact_update
from services.reporting.rates import Rates, rates

__all__ = ["FactRules", "Rates", "derive", "fact_update", "rates"]
