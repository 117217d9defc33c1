"""The operating plan (运营计划), its sign-off (报批) and plan against actual.

``page`` (the plan summary page: ``study(scope, warehouse, output_dir, …)``), ``summary``
(its sections, restated from the other pages' ``results/``), ``operating`` (targets and the
day/week/month plan), ``metrics``, ``tracking`` (plan against actual), ``xlsx``
(``plan.xlsx``), ``approvals`` (director then chairman, stale signatures), ``cli``
(``research approve / reject / plan status``). The plan imports pages, store and ground
modules, never an analysis: the other pages reach it only as ``results/*.csv``.
"""

__all__ = ["approvals", "cli", "metrics", "operating", "page", "summary", "tracking", "xlsx"]
