"""The exported metrics file: per-system usage as OpenMetrics text with timestamps.

One format for moving utilisation between places: `govctl capacity export` writes it from any
source, `govctl capacity report --metrics-file F` reads it, and Prometheus can backfill it
(`promtool tsdb create-blocks-from openmetrics F DATA_DIR`). The subset written and read:

    # TYPE govcloud_system_cpu_usage_cores gauge
    # UNIT govcloud_system_cpu_usage_cores cores
    govcloud_system_cpu_usage_cores{system="fgw-001"} 1.234 1790812800
    ...
    # TYPE govcloud_system_memory_usage_bytes gauge
    # UNIT govcloud_system_memory_usage_bytes bytes
    govcloud_system_memory_usage_bytes{system="fgw-001"} 3221225472 1790812800
    # EOF

- one sample per line: metric name, `{system="ID"}` (other labels are allowed and ignored),
  the value (CPU cores, or working-set bytes), the timestamp in **seconds** since the epoch;
- CPU and memory samples of a system are paired by timestamp; a timestamp present in only
  one of the two families is an error;
- `#` lines other than `# EOF` are comments to the reader; the file ends with `# EOF`.

Errors come back as located `ModelError`s (file, line, field), like the city's YAML files.
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import numpy as np

from model.errors import InvalidModel, ModelError, display_path
from model.history import Series
from model.inputs import read_bytes, short
from model.yamlio import write_atomic

CPU_METRIC = "govcloud_system_cpu_usage_cores"
MEMORY_METRIC = "govcloud_system_memory_usage_bytes"
_FAMILIES = ((CPU_METRIC, "cores", "cpu"), (MEMORY_METRIC, "bytes", "memory"))
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}\s+(\S+)\s+(\S+)\s*$")
_SYSTEM = re.compile(r'(?:^|,)\s*system="([^"\\]*)"')
MAX_ERRORS = 200


MAX_BYTES = 4 << 30
"""A metrics file is read whole; over this it is not one govcloud wrote."""


def write_metrics_file(path: Path, usage: dict[str, Series]) -> int:
    """Write `usage` atomically; return the number of samples written."""
    buf = io.StringIO()
    count = 0
    for metric, unit, attr in _FAMILIES:
        buf.write(f"# TYPE {metric} gauge\n# UNIT {metric} {unit}\n")
        for system in sorted(usage):
            s = usage[system]
            values = getattr(s, attr)
            fmt = "{:.6g}" if attr == "cpu" else "{:.0f}"
            for t, v in zip(s.t.tolist(), values.tolist(), strict=True):
                stamp = str(int(t)) if t == int(t) else f"{t:.3f}"
                buf.write(f'{metric}{{system="{system}"}} {fmt.format(v)} {stamp}\n')
            count += len(values)
    buf.write("# EOF\n")
    write_atomic(path, buf.getvalue())
    return count


def read_metrics_file(path: Path, known_systems: set[str] | None = None) -> dict[str, Series]:
    """Read a metrics file; raise InvalidModel with every bad line located."""
    shown = display_path(path)
    try:
        text = read_bytes(path, MAX_BYTES).decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise InvalidModel(
            [ModelError(shown, 1, "", f"not a readable UTF-8 text file: {exc}")]
        ) from None
    errors: list[ModelError] = []
    acc: dict[str, dict[str, dict[float, tuple[float, int]]]] = {"cpu": {}, "memory": {}}
    kind_of = {metric: attr for metric, _, attr in _FAMILIES}
    eof_line = 0
    lineno = 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        if len(errors) >= MAX_ERRORS:
            break
        if not line.strip():
            errors.append(
                ModelError(shown, lineno, "", "blank lines are not allowed in OpenMetrics text")
            )
            continue
        if line.startswith("#"):
            if line.strip() == "# EOF":
                eof_line = lineno
            continue
        if eof_line:
            errors.append(ModelError(shown, lineno, "", "sample after '# EOF'"))
            continue
        m = _SAMPLE.match(line)
        if not m:
            errors.append(
                ModelError(shown, lineno, "", 'expected `name{system="ID"} VALUE TIMESTAMP`')
            )
            continue
        name, labels, value, stamp = m.groups()
        kind = kind_of.get(name)
        if kind is None:
            continue  # other metrics may share the file
        sm = _SYSTEM.search(labels)
        if not sm or not sm.group(1):
            errors.append(ModelError(shown, lineno, "system", "missing the system label"))
            continue
        system = sm.group(1)
        if known_systems is not None and system not in known_systems:
            errors.append(ModelError(shown, lineno, "system", f"unknown system {short(system)}"))
            continue
        try:
            v, t = float(value), float(stamp)
        except ValueError:
            errors.append(
                ModelError(shown, lineno, "value", f"not a number: {short(value)} {short(stamp)}")
            )
            continue
        if v < 0 or not math.isfinite(v) or not math.isfinite(t):
            errors.append(ModelError(shown, lineno, "value", "usage must be a finite number ≥ 0"))
            continue
        series = acc[kind].setdefault(system, {})
        if t in series:
            errors.append(
                ModelError(
                    shown, lineno, "timestamp", f"duplicate sample (first at line {series[t][1]})"
                )
            )
            continue
        series[t] = (v, lineno)
    if not eof_line and not errors:
        errors.append(ModelError(shown, max(lineno, 1), "", "missing the final '# EOF' line"))
    out: dict[str, Series] = {}
    for system in sorted(set(acc["cpu"]) | set(acc["memory"])):
        cpu, mem = acc["cpu"].get(system, {}), acc["memory"].get(system, {})
        unpaired = sorted(set(cpu) ^ set(mem))
        if unpaired:
            t = unpaired[0]
            sample_line = (cpu[t] if t in cpu else mem[t])[1]
            missing = MEMORY_METRIC if t in cpu else CPU_METRIC
            errors.append(
                ModelError(
                    shown,
                    sample_line,
                    "timestamp",
                    f"system {system!r} has no {missing} sample at {t:.0f}",
                )
            )
            continue
        ts = np.array(sorted(cpu), dtype=float)
        out[system] = Series(
            ts, np.array([cpu[t][0] for t in ts]), np.array([mem[t][0] for t in ts])
        )
    if errors:
        raise InvalidModel(errors)
    return out
