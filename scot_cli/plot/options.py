"""Options of a picture: its kind, file format and what it shows."""

from __future__ import annotations

from dataclasses import dataclass

from scot_cli.options import Options, at_least, require

from .kinds import KINDS
from .render import FORMATS

__all__ = ["PlotOptions"]


@dataclass(frozen=True, kw_only=True)
class PlotOptions(Options):
    """What ``scot plot`` draws.

    Parameters
    ----------
    kind
        One of :data:`~scot_cli.plot.inputs.KINDS`; None: from the first input's provenance.
    format
        ``png``, ``svg`` or ``html``.
    sku
        Forecast: the skus drawn (default: the ``top`` series by forecast volume).
    top
        Forecast: series drawn; explain: drivers named before the rest are pooled.
    metric
        Explain: the metric of the waterfall (default: the one that moved most).
    subject
        Explain: the subject of the waterfall (default ``(all)``, the total).
    """

    kind: str | None = None
    format: str = "png"
    sku: tuple[str, ...] = ()
    top: int = 4
    metric: str | None = None
    subject: str = "(all)"

    def check(self) -> None:
        if self.kind is not None:
            KINDS.check(self.kind)
        FORMATS.check(self.format)
        at_least("top", self.top, 1)
        require(all(s.strip() for s in self.sku), "sku", "must not be empty")
