"""The study wing: a YAML definition checked and its scope resolved once
(:mod:`~research.study.definition`), its notebooks run with papermill in kernels on Unix
sockets (:mod:`~research.study.runner`, :mod:`~research.study.kernels`), and ``research run``
(:mod:`~research.study.cli`). It imports pages, store and ground, never an analysis: notebooks
and ``results/*.csv`` are its only link to the pages."""

__all__: list[str] = []
