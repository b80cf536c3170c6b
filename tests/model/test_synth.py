"""The synthetic city generator: edge cases of its spec."""

from __future__ import annotations

from model import load_city
from model.schema import SystemState
from model.synth import SynthSpec, write


def test_a_city_without_machine_rooms_has_every_system_on_the_cloud_or_retired(tmp_path):
    spec = SynthSpec(
        seed=3,
        counties=1,
        townships_per=1,
        villages_per=1,
        departments=6,
        systems=40,
        machine_rooms=0,
    )
    write(spec, tmp_path / "city", history=False)
    m = load_city(tmp_path / "city")  # raises InvalidModel unless the city validates
    assert m.machine_rooms == [] and len(m.systems) == 40
    states = {s.state for s in m.systems}
    assert states <= {SystemState.on_cloud, SystemState.retired}
    assert all(s.location is None for s in m.systems)
