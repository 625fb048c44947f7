#!/usr/bin/env python3
"""Chart for scripts/bench.sh: two panels from broker-bench's JSON (one object per scenario run):
server work per CPU-second (deliveries, connect cycles or publications, per scenario) and p99 latency per scenario,
one bar per server.

    python3 scripts/bench_chart.py Benchmarks/results.json Benchmarks/chart.png
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(src: str, dst: str) -> None:
    with open(src) as f:
        results = json.load(f)
    scenarios, servers = [], []
    for r in results:
        if r["scenario"] not in scenarios:
            scenarios.append(r["scenario"])
        if r["server"] not in servers:
            servers.append(r["server"])
    by = {(r["scenario"], r["server"]): r for r in results}

    def values(key, scen):
        return [[(by.get((s, srv)) or {}).get(key) or 0 for s in scen] for srv in servers]

    with_p99 = [s for s in scenarios if any((by.get((s, srv)) or {}).get("latencyP99Ms") for srv in servers)]
    fig, axes = plt.subplots(1, 2, figsize=(15, 5.5))
    panels = [
        (axes[0], "opsPerServerCpuSecond", scenarios, "per server CPU-second (higher is better)",
         lambda s: f"{s}\n({next((by[(s, v)]['opsName'] for v in servers if (s, v) in by), '')})"),
        (axes[1], "latencyP99Ms", with_p99, "end-to-end p99 latency, ms (lower is better)", lambda s: s),
    ]
    width = 0.8 / max(1, len(servers))
    for ax, key, scen, title, label in panels:
        for i, (srv, vals) in enumerate(zip(servers, values(key, scen))):
            xs = [k + (i - (len(servers) - 1) / 2) * width for k in range(len(scen))]
            bars = ax.bar(xs, vals, width, label=srv)
            for b, v in zip(bars, vals):
                if v:
                    ax.annotate(f"{v:,.0f}" if v >= 100 else f"{v:.1f}", (b.get_x() + b.get_width() / 2, b.get_height()),
                                ha="center", va="bottom", fontsize=7, rotation=90)
        ax.set_xticks(range(len(scen)))
        ax.set_xticklabels([label(s) for s in scen], rotation=30, ha="right", fontsize=8)
        ax.set_title(title)
        ax.set_yscale("log")
        # Room above the tallest bar for its rotated label.
        top = max((v for vals in values(key, scen) for v in vals if v), default=1)
        ax.set_ylim(top=top * 4)
        ax.grid(axis="y", alpha=0.3)
        ax.legend()
    fig.suptitle("broker-bench: " + " vs ".join(servers))
    fig.tight_layout()
    fig.savefig(dst, dpi=120)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
