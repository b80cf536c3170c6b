"""The fleet runner: many devices' rollouts, level by level (parents first).

`govctl net push` runs this; Ansible runs the same per-device function
(`network.session.rollout_device`) from its plays, one level per play.
"""

from __future__ import annotations

from network.session import rollout_device


def rollout(
    levels: list[list[dict]],
    workers: int,
    max_fail: float = 0.3,
    check_mode: bool = False,
    on_done=None,
) -> dict:
    """Roll out level by level (parents first), `workers` devices at a time within a level.

    Each item: {"target": Target, "candidate": str, "backup_dir", "uplinks", "parent_loopback"}.
    A level whose failed share exceeds `max_fail` stops the rollout (like Ansible's
    max_fail_percentage); a single failure in a bigger level does not.
    """
    from concurrent.futures import ThreadPoolExecutor

    results: list[dict] = []
    stopped = None
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for index, items in enumerate(levels):
            futures = [
                pool.submit(
                    rollout_device,
                    it["target"],
                    it["candidate"],
                    it["backup_dir"],
                    it["uplinks"],
                    it["parent_loopback"],
                    check_mode,
                )
                for it in items
            ]
            level_results = []
            for fut in futures:
                level_results.append(fut.result())
                if on_done:
                    on_done(level_results[-1])
            results += level_results
            failed = sum(r["status"] != "ok" for r in level_results)
            if items and failed / len(items) > max_fail:
                stopped = index
                break
    return {"results": results, "stopped_at_level": stopped}
