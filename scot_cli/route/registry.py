"""Names the command line offers, with their help (plain Python: imported at start-up)."""

from __future__ import annotations

from scot_cli.registry import Registry

#: Assignment methods: name -> one-line description (feeds the CLI choices and help).
METHODS: Registry[str] = Registry(
    "method",
    {
        "auto": "mip when the batch has at most mip_max_options options and 5,000 "
        "line-departure pairs, else lp-round (up to mip_max_options options with the line "
        "model's strong LP bound and a MIP over its support)",
        "mip": "mixed-integer model in cvxpy with HiGHS within the time limit, then local search",
        "lp-round": "no MIP: grouped LP relaxation (the bound) rounded, slope scaling, local "
        "search",
        "myopic": "baseline rule: nearest FC with stock, fastest path, first departure",
    },
)
