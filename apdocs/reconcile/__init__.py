"""Reconcile parsed returns against the roster and the guidance: findings a VS officer can act on.

``reconcile(roster, records, config, as_of) -> Result`` does no I/O. Codes, severities
and the guidance sentence each rests on are in :mod:`apdocs.reconcile.findings`;
thresholds in :mod:`apdocs.reconcile.config` (defaults: the letter's values).
"""

from apdocs.reconcile.config import Config, ConfigError, default_config, load_config
from apdocs.reconcile.engine import EvidenceRow, FormStatus, PlacementResult, Result, SchoolSummary, rag_of, reconcile
from apdocs.reconcile.findings import CODES, SEVERITIES, Finding

__all__ = [
    "CODES",
    "SEVERITIES",
    "Config",
    "ConfigError",
    "EvidenceRow",
    "Finding",
    "FormStatus",
    "PlacementResult",
    "Result",
    "SchoolSummary",
    "default_config",
    "load_config",
    "rag_of",
    "reconcile",
]
