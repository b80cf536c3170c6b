"""The loaded city model, handed from the orchestrator to each stack's program run.

Every stack's program loads and validates the whole city model (it needs the whole plan to
place its own part); for 1,000 departments that is seconds of CPU per stack, a thousand
times. The orchestrator has already loaded the model once, so it pickles it under the state
directory, keyed by a digest of the model directory's files, and tells the program where
(`GOVCLOUD_MODEL_CACHE`). The program uses the pickle only when the digest of the files it
is told to load still matches; otherwise — and always under plain `pulumi` — it loads the
model itself.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

from model import load_city
from model.city import CityModel

ENV = "GOVCLOUD_MODEL_CACHE"


def digest(model_dir: str | Path) -> str:
    """sha256 over the model directory's files (names and contents)."""
    root = Path(model_dir)
    h = hashlib.sha256()
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def store(m: CityModel, cache_dir: Path) -> Path:
    """Pickle `m` (loaded from `m.source`) into `cache_dir`; returns the directory."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"{digest(m.source)}.pickle"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps(m, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, path)
    return cache_dir


def load(model_dir: str | Path, cache_dir: str | None = None) -> CityModel:
    """The model at `model_dir`: from the cache when it holds these very files, else loaded."""
    if cache_dir:
        path = Path(cache_dir) / f"{digest(model_dir)}.pickle"
        if path.is_file():
            return pickle.loads(path.read_bytes())
    return load_city(model_dir)
