"""The engine the simulations share: an event-counting SimPy environment and `NodePool`,
a set of nodes with a free-capacity index for fast best-fit placement.

The capacity model places virtual machines with `NodePool`; the validation mode runs the
very same pool as an M/M/c/c or M/M/c queue (c nodes of one slot each), so a bug in
placement or release shows up as a departure from Erlang B or C.
"""

from __future__ import annotations

import copy
from collections.abc import Hashable, Iterable

import simpy
from sortedcontainers import SortedList

EPS = 1e-9


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that tells how many events it has scheduled (for events/s).

    SimPy numbers every scheduled event from one counter; reading a copy of it costs the
    event loop nothing, unlike wrapping `schedule`."""

    @property
    def scheduled(self) -> int:
        return next(copy.copy(self._eid))


class NodePool:
    """Nodes with two capacities (CPU, memory); VMs are placed best-fit on CPU.

    The index is a sorted list of (free_cpu, free_memory, node) over the nodes that are up:
    the best fit is found by bisecting to the first node with enough free CPU and walking
    on until one also has the memory and is not excluded by anti-affinity.
    """

    def __init__(self, nodes: int, cpu: float, memory: float):
        self.cpu = float(cpu)
        self.memory = float(memory)
        self.free_cpu = [self.cpu] * nodes
        self.free_mem = [self.memory] * nodes
        self.up = [True] * nodes
        self.vms: list[dict[Hashable, tuple[float, float]]] = [{} for _ in range(nodes)]
        self.where: dict[Hashable, int] = {}
        self.index = SortedList((self.cpu, self.memory, i) for i in range(nodes))

    @property
    def nodes(self) -> int:
        return len(self.up)

    @property
    def nodes_up(self) -> int:
        return len(self.index)

    def _set_free(self, node: int, cpu: float, mem: float) -> None:
        if self.up[node]:
            self.index.remove((self.free_cpu[node], self.free_mem[node], node))
            self.index.add((cpu, mem, node))
        self.free_cpu[node] = cpu
        self.free_mem[node] = mem

    def best_fit(self, cpu: float, mem: float, avoid: Iterable[int] = ()) -> int | None:
        """The up node with the least free CPU that still fits (cpu, mem), not in `avoid`."""
        index = self.index
        pos = index.bisect_left((cpu - EPS, -1.0, -1))
        end = len(index)
        while pos < end:
            _, free_mem, node = index[pos]
            if free_mem >= mem - EPS and node not in avoid:
                return node
            pos += 1
        return None

    def place(self, vm: Hashable, cpu: float, mem: float, avoid: Iterable[int] = ()) -> int | None:
        """Place `vm` best-fit; return its node, or None when no up node can hold it."""
        node = self.best_fit(cpu, mem, avoid)
        if node is not None:
            self.put(vm, node, cpu, mem)
        return node

    def put(self, vm: Hashable, node: int, cpu: float, mem: float) -> None:
        if vm in self.where:
            raise ValueError(f"{vm!r} is already placed on node {self.where[vm]}")
        if not self.up[node] or self.free_cpu[node] < cpu - EPS or self.free_mem[node] < mem - EPS:
            raise ValueError(f"node {node} cannot hold {vm!r} ({cpu}, {mem})")
        self._set_free(node, self.free_cpu[node] - cpu, self.free_mem[node] - mem)
        self.vms[node][vm] = (cpu, mem)
        self.where[vm] = node

    def release(self, vm: Hashable) -> tuple[int, float, float]:
        """Remove `vm`; return (node, cpu, mem) it held."""
        node = self.where.pop(vm)
        cpu, mem = self.vms[node].pop(vm)
        self._set_free(node, self.free_cpu[node] + cpu, self.free_mem[node] + mem)
        return node, cpu, mem

    def resize(self, vm: Hashable, cpu: float, mem: float, avoid: Iterable[int] = ()) -> int | None:
        """Grow or shrink `vm` in place, or move it best-fit when its node is too small.
        Returns its (possibly new) node, or None — then it keeps its old size and node."""
        node = self.where[vm]
        old_cpu, old_mem = self.vms[node][vm]
        if (
            self.free_cpu[node] >= cpu - old_cpu - EPS
            and self.free_mem[node] >= mem - old_mem - EPS
        ):
            self._set_free(
                node, self.free_cpu[node] - (cpu - old_cpu), self.free_mem[node] - (mem - old_mem)
            )
            self.vms[node][vm] = (cpu, mem)
            return node
        target = self.best_fit(cpu, mem, set(avoid) | {node})
        if target is None:
            return None
        self.release(vm)
        self.put(vm, target, cpu, mem)
        return target

    def resize_all(self, node: int, sizes: dict[Hashable, tuple[float, float]]) -> bool:
        """Resize several VMs of one node at once if the node can hold them all (one index
        update instead of one per VM); otherwise change nothing and return False."""
        vms = self.vms[node]
        d_cpu = sum(c - vms[vm][0] for vm, (c, _) in sizes.items())
        d_mem = sum(m - vms[vm][1] for vm, (_, m) in sizes.items())
        if self.free_cpu[node] < d_cpu - EPS or self.free_mem[node] < d_mem - EPS:
            return False
        vms.update(sizes)
        self._set_free(node, self.free_cpu[node] - d_cpu, self.free_mem[node] - d_mem)
        return True

    def resize_some(self, node: int, sizes: dict[Hashable, tuple[float, float]]) -> list[Hashable]:
        """Resize VMs of one node in place, in the given order, while the node can hold
        them (one index update); return the VMs that did not fit (left as they were)."""
        vms = self.vms[node]
        free_cpu, free_mem = self.free_cpu[node], self.free_mem[node]
        left = []
        for vm, (cpu, mem) in sizes.items():
            old_cpu, old_mem = vms[vm]
            if free_cpu >= cpu - old_cpu - EPS and free_mem >= mem - old_mem - EPS:
                free_cpu -= cpu - old_cpu
                free_mem -= mem - old_mem
                vms[vm] = (cpu, mem)
            else:
                left.append(vm)
        self._set_free(node, free_cpu, free_mem)
        return left

    def fail(self, node: int) -> list[tuple[Hashable, float, float]]:
        """Take a node down; return the VMs it held (now unplaced) as (vm, cpu, mem)."""
        if not self.up[node]:
            return []
        evicted = [(vm, c, m) for vm, (c, m) in self.vms[node].items()]
        for vm, _, _ in evicted:
            self.release(vm)
        self.index.remove((self.free_cpu[node], self.free_mem[node], node))
        self.up[node] = False
        return evicted

    def repair(self, node: int) -> None:
        if self.up[node]:
            return
        self.up[node] = True
        self.index.add((self.free_cpu[node], self.free_mem[node], node))

    def check(self) -> None:
        """Raise AssertionError unless every node's books balance and none is overfull."""
        assert len(self.index) == sum(self.up), "index holds exactly the up nodes"
        for node in range(self.nodes):
            used_cpu = sum(c for c, _ in self.vms[node].values())
            used_mem = sum(m for _, m in self.vms[node].values())
            assert abs(self.free_cpu[node] + used_cpu - self.cpu) < 1e-6, f"node {node}: CPU books"
            assert abs(self.free_mem[node] + used_mem - self.memory) < 1e-6, (
                f"node {node}: memory books"
            )
            assert self.free_cpu[node] >= -1e-6 and self.free_mem[node] >= -1e-6, (
                f"node {node} overfull"
            )
            assert self.up[node] or not self.vms[node], f"node {node} is down but holds VMs"
            for vm in self.vms[node]:
                assert self.where[vm] == node
        assert len(self.where) == sum(len(v) for v in self.vms)
