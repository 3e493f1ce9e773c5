"""Time inside Redis commands per request (commandstats), the harness's own calls taken out.

A lower bound on the servers' work: commandstats times a command from its parsing to its reply being
queued, so socket reads and writes are not in it; the nodes' process CPU (per_node ``cpu_s``) is the
upper bound, with idle housekeeping in it.
"""

from __future__ import annotations

import pandas as pd

from runfiles import is_setup_command


def command_us_per_request(commandstats: pd.DataFrame, nodes: pd.DataFrame, attempts: int) -> float | None:
    """µs inside Redis commands per request, all nodes, the harness's share taken out.

    Per node: commandstats µs of every non-set-up command, scaled by workload commands / all
    non-set-up commands (the probe's and refresher's calls are counted, not timed, so they are
    assumed to cost what the node's average call costs).
    """
    if commandstats.empty or nodes.empty or attempts <= 0:
        return None
    total_us = 0.0
    for node, rows in commandstats.groupby("node", sort=False):
        work = rows[~rows["command"].map(is_setup_command)]
        first_t, last_t = work["t_s"].min(), work["t_s"].max()
        calls = (
            work.loc[work["t_s"] == last_t, "calls"].sum() - work.loc[work["t_s"] == first_t, "calls"].sum()
        )
        usec = work.loc[work["t_s"] == last_t, "usec"].sum() - work.loc[work["t_s"] == first_t, "usec"].sum()
        mine = nodes[nodes["node"] == node].sort_values("t_s")
        if calls <= 0 or mine.empty:
            continue
        workload = float(mine["workload_commands"].iloc[-1] - mine["workload_commands"].iloc[0])
        total_us += float(usec) * min(1.0, max(0.0, workload / float(calls)))
    return round(total_us / attempts, 2)
