"""`govctl ipv6 plan|show` and `govctl net render`: flags, exit codes, files written."""

from __future__ import annotations

import json

from govctl.app import main
from tests.helpers import edit_yaml


def test_plan_writes_lock_and_json_then_is_stable(small_city, tmp_path, capsys):
    lock, out = tmp_path / "ipam.lock.yaml", tmp_path / "plan.json"
    assert main(["ipv6", "plan", str(small_city), "--lock", str(lock), "--out", str(out)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["schema_version"] == 1 and doc["aggregate"] == "2001:db8::/32"
    assert {"allocations", "links", "loopbacks"} <= set(doc)
    assert "lock" in capsys.readouterr().out
    before = lock.read_text(encoding="utf-8")
    assert main(["ipv6", "plan", str(small_city), "--lock", str(lock), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["new_prefixes"] == 0 and lock.read_text(encoding="utf-8") == before


def test_corrupt_lock_exits_2_with_a_located_message(small_city, tmp_path, capsys):
    lock = tmp_path / "ipam.lock.yaml"
    lock.write_text(
        "schema_version: 1\nkind: govcloud/ipam-lock\ncity: '369900'\naggregate: nonsense\n"
        "settings: {county_len: 40, township_len: 48, village_len: 56}\n",
        encoding="utf-8",
    )
    assert main(["ipv6", "plan", str(small_city), "--lock", str(lock)]) == 2
    err = capsys.readouterr().err
    assert "ipam.lock.yaml:4: aggregate: not an IPv6 prefix" in err and "Traceback" not in err


def test_bad_settings_exit_2_and_write_nothing(small_city, tmp_path, capsys):
    code = main(
        [
            "ipv6",
            "plan",
            str(small_city),
            "--lock",
            str(tmp_path / "l.yaml"),
            "--county-len",
            "40",
            "--township-len",
            "48",
            "--village-len",
            "50",
        ]
    )
    assert code == 2
    assert "nibble" in capsys.readouterr().err
    assert not (tmp_path / "l.yaml").exists()


def test_release_flow_and_show(small_city, tmp_path, capsys):
    lock = tmp_path / "l.yaml"
    assert main(["ipv6", "plan", str(small_city), "--lock", str(lock)]) == 0
    gone = {}

    def drop_village(data):
        gone["code"] = data["counties"][0]["townships"][0]["villages"].pop()["code"]

    edit_yaml(small_city, "network.yaml", drop_village)
    assert main(["ipv6", "plan", str(small_city), "--lock", str(lock)]) == 0
    assert f"- {gone['code']} village" in lock.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["ipv6", "show", str(small_city), gone["code"], "--lock", str(lock)]) == 0
    assert "reserved until --release" in capsys.readouterr().out
    assert (
        main(["ipv6", "plan", str(small_city), "--lock", str(lock), "--release", gone["code"]]) == 0
    )
    assert f"- {gone['code']} " not in lock.read_text(encoding="utf-8")


def test_show_json_explains_a_site(small_city, tmp_path, capsys):
    lock = tmp_path / "l.yaml"
    assert main(["ipv6", "plan", str(small_city), "--lock", str(lock)]) == 0
    capsys.readouterr()
    assert main(["ipv6", "show", str(small_city), "c01-agg-01", "--lock", str(lock), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["level"] == "county" and data["infrastructure"]["links"].endswith("/64")
    assert any(d["hostname"] == "c01-agg-01" for d in data["devices"])
    assert main(["ipv6", "show", str(small_city), "nope", "--lock", str(lock)]) == 2


def test_net_render_needs_an_up_to_date_lock(small_city, tmp_path, capsys):
    lock, out = tmp_path / "l.yaml", tmp_path / "cfg"
    assert main(["net", "render", str(small_city), "--out", str(out), "--lock", str(lock)]) == 2
    assert "run `govctl ipv6 plan" in capsys.readouterr().err
    assert main(["ipv6", "plan", str(small_city), "--lock", str(lock)]) == 0
    assert (
        main(
            [
                "net",
                "render",
                str(small_city),
                "--out",
                str(out),
                "--lock",
                str(lock),
                "--workers",
                "1",
            ]
        )
        == 0
    )
    assert len(list(out.glob("*.rollback.cfg"))) == len(list(out.glob("*.cfg"))) // 2 > 0
    assert not any("ospf6 hello-interval" in p.read_text() for p in out.glob("*.cfg"))


def test_net_render_ospf_timer_flags(small_city, tmp_path, capsys):
    lock, out = tmp_path / "l.yaml", tmp_path / "cfg"
    assert main(["ipv6", "plan", str(small_city), "--lock", str(lock)]) == 0
    assert (
        main(
            [
                "net",
                "render",
                str(small_city),
                "--out",
                str(out),
                "--lock",
                str(lock),
                "--ospf-dead",
                "4",
            ]
        )
        == 2
    )
    assert "needs --ospf-hello" in capsys.readouterr().err and not out.exists()
    assert (
        main(
            [
                "net",
                "render",
                str(small_city),
                "--out",
                str(out),
                "--lock",
                str(lock),
                "--workers",
                "2",
                "--ospf-hello",
                "1",
                "--ospf-dead",
                "4",
                "--ospf-retransmit",
                "1",
            ]
        )
        == 0
    )
    texts = [p.read_text() for p in out.glob("*.cfg") if not p.name.endswith(".rollback.cfg")]
    assert texts and all(("timer dead 4" in t) or ("dead-interval 4" in t) for t in texts)


def test_net_render_then_net_check_is_clean_and_a_bad_line_exits_2(small_city, tmp_path, capsys):
    lock, out = tmp_path / "ipam.lock.yaml", tmp_path / "configs"
    assert main(["ipv6", "plan", str(small_city), "--lock", str(lock)]) == 0
    assert main(["net", "render", str(small_city), "--lock", str(lock), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["net", "check", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema_version"] == 1 and doc["findings"] == []
    assert doc["files"] == 2 * len(list(out.glob("*.rollback.cfg")))
    victim = sorted(out.glob("*-acc-01.cfg"))[0]
    lines = victim.read_text(encoding="utf-8").splitlines()
    lines.insert(
        3,
        "ipv6 route ::/0 2001:db8::1"
        if lines[0].startswith("#")
        else "ipv6 route-static :: 0 2001:db8::1",
    )
    lines.append("interface LoopBack0" if lines[0].startswith("#") else "interface Loopback0")
    victim.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["net", "check", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{victim}:4: " in err and "left open" in err and "Traceback" not in err


def test_net_check_needs_a_platform_for_a_file_without_header(tmp_path, capsys):
    f = tmp_path / "r1.cfg"
    f.write_text("interface GigabitEthernet0/0/1\n ipv6 enable\nquit\n", encoding="utf-8")
    assert main(["net", "check", str(f)]) == 2
    assert "give --platform" in capsys.readouterr().err
    assert main(["net", "check", str(f), "--platform", "huawei_vrp"]) == 0
    assert main(["net", "check", str(f), "--platform", "junos"]) == 2
    assert main(["net", "check", str(tmp_path / "missing.cfg")]) == 2
