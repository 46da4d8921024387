"""Words the registry hands to people, marked for the translation catalog.

``N_`` returns its text unchanged; the web layer translates the text where it shows it
(``_(str(exc))``), and Babel's extraction (babel.cfg, keyword N_) finds it here so that the
English catalog keeps its translation."""
from __future__ import annotations


def N_(text: str) -> str:  # noqa: N802 - gettext's conventional name for a deferred message
    return text
