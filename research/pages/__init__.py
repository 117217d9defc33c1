"""What the report pages share: formatting, charts, the page result and the HTML report.

``display`` (tables and notes in a notebook), ``charts`` (the CJK font and chart style),
``results`` (the :class:`~research.pages.results.PageResult` protocol and ``write_page``),
``report`` (notebook → self-contained HTML, the index). Pages import only
:mod:`research.config`; nothing here is imported eagerly (``charts`` loads matplotlib).
"""

__all__ = ["charts", "display", "report", "results"]
