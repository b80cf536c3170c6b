"""The city report in a real browser: headless Chromium loads the page and every image."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from govctl.app import main
from tests.helpers import SAMPLE_CITY

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    assert main(["report", str(SAMPLE_CITY), "--out", str(out)]) == 0
    return out


def test_report_files(report_dir):
    html = (report_dir / "index.html").read_text(encoding="utf-8")
    assert "赣江市" in html and "GO" in html
    for img in ("kpi.png", "capacity-shared.png", "backup-window.png", "capacity-report.png"):
        assert f'src="{img}"' in html
        assert (report_dir / img).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium (Debian package chromium) is not installed"
)
def test_report_renders_in_chromium(report_dir, tmp_path):
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright (dev extra) is not installed"
    )
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            failed: list[str] = []
            page.on("requestfailed", lambda req: failed.append(req.url))
            page.goto((report_dir / "index.html").as_uri(), wait_until="load")
            images = page.evaluate(
                "Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])"
            )
            assert len(images) >= 6
            broken = [src for src, complete, width in images if not (complete and width > 0)]
            assert broken == [] and failed == []
            assert page.title().startswith("赣江市")
            assert page.locator(".decision").inner_text() == "GO"
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
            assert (tmp_path / "report.png").stat().st_size > 10_000
        finally:
            browser.close()
