"""Renders docs/grafana/commons-worker.json's panels to a PNG from a running Prometheus.

Each panel's PromQL goes to Prometheus's own query API (`query_range`) unchanged, with the
`$instance` variable set to "all"; the panels sit where the dashboard's gridPos puts them, stat
panels show each series' last value and time-series panels plot the range, as Grafana would.
Usage: dashboard_png.py PROMETHEUS_URL DASHBOARD_JSON START END OUT_PNG   (START/END: unix seconds)
"""

import json
import re
import sys
import urllib.parse
import urllib.request

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

BACKGROUND = "#111217"
PANEL = "#181b1f"
TEXT = "#ccccdc"
GRID = "#2c3235"
PALETTE = ["#73bf69", "#f2cc0c", "#5794f2", "#ff9830", "#f2495c", "#b877d9", "#8ab8ff", "#96d98d"]
GRID_COLUMNS = 24
ROW_INCHES = 0.42
WIDTH_INCHES = 18.0


def query_range(url, expr, start, end, step):
    params = urllib.parse.urlencode(
        {"query": expr, "start": start, "end": end, "step": step}
    )
    with urllib.request.urlopen(f"{url}/api/v1/query_range?{params}", timeout=30) as response:
        body = json.load(response)
    if body.get("status") != "success":
        raise SystemExit(f"Prometheus refused {expr!r}: {body.get('error')}")
    return body["data"]["result"]


def legend(template, labels):
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template or "")


def series_of(url, panel, start, end, step):
    """(legend, times relative to START in minutes, values) for every series of every target."""
    out = []
    for target in panel.get("targets", []):
        expr = target["expr"].replace("$instance", ".*")
        for result in query_range(url, expr, start, end, step):
            times = [(float(t) - start) / 60 for t, _ in result["values"]]
            values = [float(v) for _, v in result["values"]]
            out.append((legend(target.get("legendFormat"), result["metric"]), times, values))
    return sorted(out, key=lambda s: s[0])


def draw_stat(ax, series):
    ax.set_axis_off()
    if not series:
        ax.text(0.5, 0.45, "no data", ha="center", va="center", color=TEXT, fontsize=12)
        return
    rows = len(series)
    for index, (name, _, values) in enumerate(series):
        y = 1 - (index + 0.5) / rows * 0.82 - 0.12
        value = values[-1]
        shown = f"{value:.0f}" if value == int(value) and abs(value) < 1e9 else f"{value:.3g}"
        ax.text(0.62, y, shown, ha="right", va="center", fontsize=max(8, 20 - 2 * rows),
                fontweight="bold", color=PALETTE[index % len(PALETTE)], transform=ax.transAxes)
        ax.text(0.66, y, name, ha="left", va="center", fontsize=7, color=TEXT,
                transform=ax.transAxes)


def draw_timeseries(ax, series):
    ax.set_facecolor(PANEL)
    for side in ax.spines.values():
        side.set_color(GRID)
    ax.tick_params(colors=TEXT, labelsize=7)
    ax.grid(color=GRID, linewidth=0.5)
    for index, (name, times, values) in enumerate(series):
        ax.plot(times, values, color=PALETTE[index % len(PALETTE)], linewidth=1.3, label=name)
    ax.set_xlabel("minutes", color=TEXT, fontsize=7)
    if series:
        ax.legend(fontsize=6, facecolor=PANEL, edgecolor=GRID, labelcolor=TEXT, loc="upper left",
                  ncol=3 if len(series) > 4 else 1)
    else:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", color=TEXT, transform=ax.transAxes)


def main():
    url, dashboard_path, start, end, out = sys.argv[1:6]
    start, end = float(start), float(end)
    dashboard = json.load(open(dashboard_path))
    panels = dashboard["panels"]
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    height = rows * ROW_INCHES + 0.6
    figure = plt.figure(figsize=(WIDTH_INCHES, height), facecolor=BACKGROUND)
    figure.text(0.01, 1 - 0.3 / height, f"{dashboard['title']}  ·  instance: All  ·  "
                f"{(end - start) / 60:.0f} minutes of a development chain with three workers",
                color=TEXT, fontsize=11, va="center")
    step = max(2, int((end - start) / 300))
    for panel in panels:
        grid = panel["gridPos"]
        pad_x, pad_y = 0.006, 0.02 / height * 8
        left = grid["x"] / GRID_COLUMNS
        width = grid["w"] / GRID_COLUMNS
        top = (0.6 + grid["y"] * ROW_INCHES) / height
        box_height = grid["h"] * ROW_INCHES / height
        frame = figure.add_axes((left + pad_x / 2, 1 - top - box_height + pad_y / 2,
                                 width - pad_x, box_height - pad_y))
        frame.set_facecolor(PANEL)
        frame.set_xticks([])
        frame.set_yticks([])
        for side in frame.spines.values():
            side.set_color(GRID)
        frame.text(0.01, 0.97, panel["title"], color=TEXT, fontsize=9, fontweight="bold",
                   va="top", transform=frame.transAxes)
        series = series_of(url, panel, start, end, step)
        inner_top = 0.24 / (grid["h"] * ROW_INCHES)
        if panel["type"] == "stat":
            inner = figure.add_axes((left + pad_x, 1 - top - box_height + pad_y,
                                     width - 2 * pad_x, box_height * (1 - inner_top) - pad_y))
            draw_stat(inner, series)
        else:
            inner = figure.add_axes((left + pad_x + 0.025, 1 - top - box_height + pad_y + 0.045 * 8 / rows,
                                     width - 2 * pad_x - 0.03,
                                     box_height * (1 - inner_top) - pad_y - 0.06 * 8 / rows))
            draw_timeseries(inner, series)
    figure.savefig(out, dpi=90, facecolor=BACKGROUND)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
